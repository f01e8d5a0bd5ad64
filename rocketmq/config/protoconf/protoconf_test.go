package protoconf

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var quiet = log.NewStdLogger(io.Discard)

// load decodes yaml (one file) and env (APP_ variables) into the test schema.
func load(t *testing.T, yaml string, env ...string) (*dynamicpb.Message, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "config.yaml", yaml)
	m := newRoot(t)
	c, err := Load(quiet, m, NewFileSource(p, ""), NewEnvSource("APP_", m.Descriptor(), Environ(env...)))
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return m, err
}

func TestDecodeErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string // substrings of the error
	}{
		{"unknown enum", "mode: TURBO\n", nil, []string{"config key mode", `"TURBO"`, "FAST, SAFE"}},
		{"enum number out of range", "mode: 7\n", nil, []string{"config key mode", "7"}},
		{"negative duration", "server:\n  timeout: -2s\n", nil, []string{"server.timeout", "negative"}},
		{"duration without unit", "server:\n  timeout: 10\n", nil, []string{"server.timeout", "unit"}},
		{"bad duration", "server:\n  timeout: soon\n", nil, []string{"server.timeout", `"soon"`}},
		{"number expected", "workers: many\n", nil, []string{"config key workers", "number"}},
		{"integer expected", "workers: 1.5\n", nil, []string{"config key workers", "integer"}},
		{"int32 out of range", "workers: 3000000000\n", nil, []string{"config key workers", "32-bit"}},
		{"bool expected", "debug: maybe\n", nil, []string{"config key debug", "true or false"}},
		{"list expected", "name_servers: {a: b}\n", nil, []string{"config key name_servers", "list"}},
		{"mapping expected", "server: 5\n", nil, []string{"config key server", "mapping"}},
		{"map expected", "labels: [a]\n", nil, []string{"config key labels", "mapping"}},
		{"list item", "backends:\n  - addr: a\n  - timeout: x\n", nil, []string{"backends[1].timeout", `"x"`}},
		{"string expected", "server:\n  addr: [a]\n", nil, []string{"server.addr", "string"}},
		{"env negative duration", "{}\n", []string{"APP_SERVER_TIMEOUT=-1s"}, []string{"server.timeout", "negative"}},
		{"env bad enum", "{}\n", []string{"APP_MODE=yaml"}, []string{"config key mode", `"yaml"`}},
		{"two errors", "workers: x\nserver:\n  timeout: soon\n", nil, []string{"config key workers", "server.timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, tc.env...)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	yaml := `
server:
  addr: 127.0.0.1:1
  timeout: 1m30s
name_servers: [a:1]
labels: {zone: a}
workers: 4
debug: "true"
mode: safe
backends:
  - addr: b:1
    timeout: 500ms
ratio: 0.5
max_bytes: 1e6
`
	m, err := load(t, yaml,
		"APP_SERVER_ADDR=127.0.0.1:2",
		"APP_NAME_SERVERS=10.0.0.2:9876, 10.0.0.3:9876",
		"APP_LABELS_REGION=eu",
		"APP_WORKERS=7",
		"APP_MAX_BYTES=2048",
		"APP_NOT_A_KEY=1",
		"OTHER_SERVER_ADDR=ignored",
	)
	if err != nil {
		t.Fatal(err)
	}
	backend := get(m, "backends").List().Get(0).Message()
	checks := []struct {
		name      string
		got, want any
	}{
		{"env addr wins", get(m, "server", "addr").String(), "127.0.0.1:2"},
		{"go duration", durationOf(get(m, "server", "timeout")), 90 * time.Second},
		{"env list, trimmed", joinList(get(m, "name_servers")), "10.0.0.2:9876,10.0.0.3:9876"},
		{"env map entry merges", mapValue(get(m, "labels"), "region") + "/" + mapValue(get(m, "labels"), "zone"), "eu/a"},
		{"env int wins", get(m, "workers").Int(), int64(7)},
		{"quoted yaml bool", get(m, "debug").Bool(), true},
		{"lower-case enum", get(m, "mode").Enum(), protoreflect.EnumNumber(2)},
		{"list of messages", get(backend, "addr").String(), "b:1"},
		{"duration in a list", durationOf(get(backend, "timeout")), 500 * time.Millisecond},
		{"double", get(m, "ratio").Float(), 0.5},
		{"env int64", get(m, "max_bytes").Int(), int64(2048)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestUnknownKeysAreWarnings(t *testing.T) {
	p := writeFile(t, t.TempDir(), "config.yaml", "workers: 2\nwrokers: 3\nserver:\n  adr: x\nPATH: /bin\n")
	c := config.New(config.WithSource(NewFileSource(p, "")))
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := newRoot(t)
	warnings, err := Decode(c, m)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(warnings, "; ")
	if got != "unknown key server.adr; unknown key wrokers" {
		t.Errorf("warnings = %q, want the two typos (an upper-case top-level key is a bare environment value)", got)
	}
	if get(m.ProtoReflect(), "workers").Int() != 2 {
		t.Error("the known key was not decoded")
	}
}

func TestEnvUnmatched(t *testing.T) {
	s := NewEnvSource("APP_", testSchema(t), Environ("APP_SERVER_ADDR=x", "APP_PROFILE=docker", "APP_SERVER_NOPE=1", "APP_=", "PATH=/bin"))
	if got := strings.Join(s.Unmatched(), ","); got != "APP_PROFILE,APP_SERVER_NOPE" {
		t.Errorf("Unmatched = %q", got)
	}
}

func TestFileSourceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "config.yaml", "server:\n  http:\n    addr: [\n")
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), []string{filepath.Join(dir, "nope.yaml"), "does not exist"}},
		{"invalid yaml", bad, []string{bad, "line 3"}},
		{"empty dir", t.TempDir(), []string{"no .yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFileSource(tc.path, "").Load()
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFileSourceProfiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", "server:\n  addr: base:1\n")
	writeFile(t, dir, "config.docker.yaml", "server:\n  addr: docker:1\n")
	writeFile(t, dir, "README.md", "not config")
	for _, tc := range []struct{ profile, want string }{{"", "base:1"}, {"docker", "docker:1"}, {"prod", "base:1"}} {
		m := newRoot(t)
		c, err := Load(quiet, m, NewFileSource(dir, tc.profile))
		if err != nil {
			t.Fatalf("profile %q: %v", tc.profile, err)
		}
		_ = c.Close()
		if got := get(m, "server", "addr").String(); got != tc.want {
			t.Errorf("profile %q: addr = %q, want %q", tc.profile, got, tc.want)
		}
	}
}

func TestFileWatch(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "config.yaml", "mode: FAST\n")
	w, err := NewFileSource(p, "").Watch()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		kvs, err := w.Next()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(kvs[0].Value)
	}()
	writeFile(t, dir, "config.yaml", "mode: SAFE\n")
	select {
	case v := <-got:
		if !strings.Contains(v, "SAFE") {
			t.Errorf("Next returned %q", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported")
	}
	stopped := make(chan error, 1)
	go func() { _, err := w.Next(); stopped <- err }()
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("Next after Stop returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not unblock Next")
	}
}

// A change of a watched file keeps the environment's values on top (WithOverlay); without
// the overlay the file's new version would win.
func TestOverlayKeepsEnvOnTop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		overlay bool
		want    string
	}{
		{"with overlay", true, "env:1"},
		{"without overlay", false, "file:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeFile(t, dir, "config.yaml", "server:\n  addr: file:1\nworkers: 1\n")
			schema := testSchema(t)
			env := NewEnvSource("APP_", schema, Environ("APP_SERVER_ADDR=env:1"))
			var file config.Source = NewFileSource(p, "")
			if tc.overlay {
				file = WithOverlay(file, env)
			}
			c := config.New(config.WithSource(file, env))
			if err := c.Load(); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			changed := make(chan struct{}, 1)
			if err := c.Watch("workers", func(string, config.Value) { changed <- struct{}{} }); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "config.yaml", "server:\n  addr: file:2\nworkers: 2\n")
			select {
			case <-changed:
			case <-time.After(10 * time.Second):
				t.Fatal("the change did not arrive")
			}
			m := newRoot(t)
			if _, err := Decode(c, m); err != nil {
				t.Fatal(err)
			}
			if got := get(m, "server", "addr").String(); got != tc.want {
				t.Errorf("server.addr after the change = %q, want %q", got, tc.want)
			}
		})
	}
}

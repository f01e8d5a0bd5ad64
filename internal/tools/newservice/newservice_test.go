package main

import (
	"bufio"
	"bytes"
	"context"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests create services from this template the three ways users do, each in a temp
// dir, and check that the result builds, vets, passes its tests and serves /healthz, and
// that no file still names the template's module path:
//   - kratos new NAME -r REPO: every file copied (.git/.github skipped), the module path
//     replaced byte for byte with the bare NAME (../../shared/design/kratos-new.md);
//   - make new NAME=... MODULE=...: this package's Copy;
//   - gonew SRC DST: only the module line and Go import paths rewritten.
// The copies run their own tests with renameCopyEnv set, so they do not recurse. In a
// copy, go vet ./... compiles every package and test; go test runs the application's
// packages (cmd, internal, deploy: the ones that load the renamed protobuf descriptors,
// Wire graph and configuration), with -short. The pkg/ libraries do not depend on the
// module path beyond their imports, which vet has compiled, and their integration suites
// run in the main test pass; running them twice more would not fit make test's budget.
// make test-copies (NEWSERVICE_FULL_TESTS=1) runs go test ./... (no -short) in the copies.

const renameCopyEnv = "KRATOS_ROCKETMQ_RENAME_COPY"

// envFullCopyTests, when set, makes the copies run every package's tests (go test
// ./...), the pkg/ libraries' integration suites included (make test-copies).
const envFullCopyTests = "NEWSERVICE_FULL_TESTS"

func skipInCopy(t *testing.T) {
	t.Helper()
	if os.Getenv(renameCopyEnv) != "" {
		t.Skip("inside a renamed copy")
	}
	if testing.Short() {
		t.Skip("renamed copies build and test the whole tree: skipped with -short")
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// kratosNew emulates `kratos new name -r root` exactly (rule 3 of kratos-new.md).
func kratosNew(t *testing.T, root, dest, name string) {
	t.Helper()
	old, err := ModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	files, err := templateFiles(root) // what a clone of the repository holds
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		info, _ := os.Stat(filepath.Join(root, rel))
		to := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, bytes.ReplaceAll(data, []byte(old), []byte(name)), info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// gonew emulates golang.org/x/tools/cmd/gonew: the module line and the import paths of Go
// files are rewritten; nothing else changes.
func gonew(t *testing.T, root, dest, module string) {
	t.Helper()
	old, err := ModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	files, err := templateFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range files {
		from := filepath.Join(root, rel)
		data, err := os.ReadFile(from)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		info, _ := os.Stat(from)
		switch {
		case rel == "go.mod":
			data = bytes.Replace(data, []byte("module "+old), []byte("module "+module), 1)
		case strings.HasSuffix(rel, ".go"):
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, rel, data, parser.ParseComments)
			if err != nil {
				t.Fatalf("parse %s: %v", rel, err)
			}
			changed := false
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == old || strings.HasPrefix(p, old+"/") {
					imp.Path.Value = strconv.Quote(module + strings.TrimPrefix(p, old))
					changed = true
				}
			}
			if changed {
				var buf bytes.Buffer
				if err := (&printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}).Fprint(&buf, fset, f); err != nil {
					t.Fatal(err)
				}
				data = buf.Bytes()
			}
		}
		to := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRenamedServices(t *testing.T) {
	skipInCopy(t)
	root := repoRoot(t)
	old, err := ModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		module   string
		create   func(t *testing.T, dest, module string)
		runTests bool // run the copy's application tests (gonew only builds and vets)
		noOldRef bool // no file may mention the old module path
	}{
		{"kratos new", "shop", func(t *testing.T, dest, m string) { kratosNew(t, root, dest, m) }, true, true},
		{"make new", "example.com/acme/shop", func(t *testing.T, dest, m string) {
			if _, err := Copy(root, dest, m); err != nil {
				t.Fatal(err)
			}
		}, true, true},
		{"gonew", "example.com/acme/gonewshop", func(t *testing.T, dest, m string) { gonew(t, root, dest, m) }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "svc")
			tc.create(t, dest, tc.module)
			if got, _ := ModulePath(dest); got != tc.module {
				t.Fatalf("module of the copy = %q, want %q", got, tc.module)
			}
			if tc.noOldRef {
				assertNoMention(t, dest, old)
			}
			goCmd(t, dest, "build", "./...")
			goCmd(t, dest, "vet", "./...")
			if tc.runTests {
				args := []string{"test", "-short", "-count=1", "./cmd/...", "./internal/...", "./deploy/..."}
				if os.Getenv(envFullCopyTests) != "" {
					args = []string{"test", "-count=1", "./..."}
				}
				goCmd(t, dest, args...)
			}
			bin := filepath.Join(t.TempDir(), "app")
			goCmd(t, dest, "build", "-o", bin, "./cmd/app")
			assertServesHealthz(t, dest, bin)
		})
	}
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), renameCopyEnv+"=1", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

func assertNoMention(t *testing.T, dir, old string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(old)) {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s still mentions %s", rel, old)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var listenRE = regexp.MustCompile(`\[HTTP\] server listening on: (\S+)`)

// assertServesHealthz starts the copy's binary (embedded broker and HTTP on free ports)
// and expects 200 from /healthz.
func assertServesHealthz(t *testing.T, dir, bin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-conf", filepath.Join(dir, "configs"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"APP_SERVER_HTTP_ADDR=127.0.0.1:0", "APP_SERVER_GRPC_ADDR=127.0.0.1:0",
		"APP_DATA_ROCKETMQ_EMBEDDED_NAME_SERVER_ADDR=127.0.0.1:0", "APP_DATA_ROCKETMQ_EMBEDDED_BROKER_ADDR=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var log strings.Builder
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		m := listenRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		resp, err := http.Get("http://" + m[1] + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %d", resp.StatusCode)
		}
		go func() { // keep draining so the app never blocks on a full pipe
			for sc.Scan() {
			}
		}()
		return
	}
	t.Fatalf("the app of the copy did not start:\n%s", log.String())
}

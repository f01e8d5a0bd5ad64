// Package api_test checks that the code generated from the .proto files of this service
// (api/, internal/conf) and cmd/app/wire_gen.go are what make api config generate writes
// today: edit a .proto or a provider and forget to regenerate, and these tests say which
// file is stale.
package api_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// requireTool skips when a generator is missing on a developer machine, and fails in CI
// (CI=true), where .ci/run installs them.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if testing.Short() {
		t.Skip("regenerates code: skipped with -short")
	}
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it): %v", name, err)
		}
		t.Skipf("cannot check the generated code: %s is not installed (apt-get install protobuf-compiler for protoc, make init for the plugins; CI installs both)", name)
	}
}

// TestGeneratedCodeIsCurrent regenerates api/ and internal/conf into a temp dir with the
// Makefile's own rules and compares with the committed files.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	for _, tool := range []string{"protoc", "protoc-gen-go", "protoc-gen-go-grpc", "protoc-gen-validate", "make"} {
		requireTool(t, tool)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	apiOut, confOut := filepath.Join(tmp, "api"), filepath.Join(tmp, "internal")
	for _, d := range []string{apiOut, confOut} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("make", "--no-print-directory", "api", "config", "API_OUT="+apiOut, "CONF_OUT="+confOut)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make api config: %v\n%s", err, out)
	}
	compared := 0
	for _, pair := range [][2]string{{apiOut, filepath.Join(root, "api")}, {confOut, filepath.Join(root, "internal")}} {
		err := filepath.WalkDir(pair[0], func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(pair[0], path)
			fresh, _ := os.ReadFile(path)
			committed, err := os.ReadFile(filepath.Join(pair[1], rel))
			if err != nil {
				t.Errorf("%s is generated but not committed", rel)
				return nil
			}
			if !bytes.Equal(fresh, committed) {
				t.Errorf("%s differs from a fresh generation: run make api config and commit", rel)
			}
			compared++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if compared < 5 {
		t.Fatalf("only %d generated files compared; the generation did not run", compared)
	}
}

// TestWireIsCurrent regenerates cmd/app/wire_gen.go in a copy of the module and compares
// it with the committed file, ignoring the order of imports (a renamed module sorts its
// own imports elsewhere, which is no staleness).
func TestWireIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates code: skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := copyModule(root, tmp); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "github.com/google/wire/cmd/wire@v0.7.0", "gen", "./cmd/app")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "" && (bytes.Contains(out, []byte("proxy")) || bytes.Contains(out, []byte("dial tcp"))) {
			t.Skipf("cannot fetch wire: %s", out)
		}
		t.Fatalf("wire gen: %v\n%s", err, out)
	}
	fresh, err := normalizeGo(filepath.Join(tmp, "cmd/app/wire_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := normalizeGo(filepath.Join(root, "cmd/app/wire_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh != committed {
		t.Fatalf("cmd/app/wire_gen.go is stale: run make generate and commit it\n--- fresh\n%s", fresh)
	}
}

// copyModule copies the Go module at src (sources only: no .git, bin or data) to dst.
func copyModule(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			switch rel {
			case ".git", "bin", "data":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// normalizeGo returns a Go file's text with the lines of its import block sorted and
// blank lines between import groups dropped (both depend on the module path).
func normalizeGo(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(data)
	i := strings.Index(s, "import (\n")
	if i < 0 {
		return s, nil
	}
	body := s[i+len("import (\n"):]
	j := strings.Index(body, "\n)\n")
	if j < 0 {
		return "", fmt.Errorf("%s: unterminated import block", path)
	}
	var imports []string
	for _, l := range strings.Split(body[:j], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			imports = append(imports, l)
		}
	}
	sort.Strings(imports)
	return s[:i] + "import (\n" + strings.Join(imports, "\n") + body[j:], nil
}

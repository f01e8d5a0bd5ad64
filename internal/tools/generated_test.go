package tools

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireTool skips when a generator is missing on a developer machine, and fails in CI
// (CI=true), where .ci/run installs them.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s is not installed; run make init (and apt-get install protobuf-compiler)", name)
	}
}

// TestGeneratedCodeIsCurrent regenerates api/ and internal/conf into a temp dir with the
// Makefile's own rules and compares with the committed files.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	for _, tool := range []string{"protoc", "protoc-gen-go", "protoc-gen-go-grpc", "protoc-gen-validate", "make"} {
		requireTool(t, tool)
	}
	root, err := filepath.Abs("../..")
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

// TestWireIsCurrent checks cmd/app/wire_gen.go against wire.go with wire's own diff.
func TestWireIsCurrent(t *testing.T) {
	requireTool(t, "go")
	cmd := exec.Command("go", "run", "github.com/google/wire/cmd/wire@v0.7.0", "diff", "./cmd/app")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "proxy") || strings.Contains(string(out), "dial tcp") {
			if os.Getenv("CI") == "" {
				t.Skipf("cannot fetch wire: %s", out)
			}
		}
		t.Fatalf("wire diff reports changes or failed (run make generate):\n%s", out)
	}
}

package v2_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The generator versions the committed files were produced with (the root
// Makefile pins the same ones).
var generators = map[string]string{
	"protoc-gen-go":      "v1.36.12",
	"protoc-gen-go-grpc": "1.5.1",
}

// requireGenerator skips when a generator is missing or of another version on
// a developer machine, and fails in CI (CI=true), where .ci/run installs them.
func requireGenerator(t *testing.T, name, version string) {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath(name); err != nil {
		skip("%s is not installed (make init; apt-get install protobuf-compiler): %v", name, err)
		return
	}
	if version == "" {
		return
	}
	out, err := exec.Command(name, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), version) {
		skip("%s is not version %s (make init): %s %v", name, version, out, err)
	}
}

// TestGeneratedCodeIsCurrent regenerates the package with ../generate.sh into
// a temporary directory and compares every file with the committed one.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates code: skipped with -short")
	}
	requireGenerator(t, "protoc", "")
	for name, version := range generators {
		requireGenerator(t, name, version)
	}
	tmp := t.TempDir()
	cmd := exec.Command("../generate.sh", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, out)
	}
	fresh, err := filepath.Glob(filepath.Join(tmp, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) < 5 {
		t.Fatalf("generate.sh wrote %d files, want 5 (definition, service, admin and two gRPC files)", len(fresh))
	}
	for _, path := range fresh {
		name := filepath.Base(path)
		want, _ := os.ReadFile(path)
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s is generated but not committed", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from a fresh generation: run go generate ./protocol/... and commit", name)
		}
	}
	committed, _ := filepath.Glob("*.pb.go")
	if len(committed) != len(fresh) {
		t.Errorf("%d generated files committed, %d generated: remove the stale ones", len(committed), len(fresh))
	}
}

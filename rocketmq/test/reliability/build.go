package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Builder builds the binaries crash tests run as child processes (a broker, an app),
// each once per test run, into a temporary directory, with -race when the tests have
// it. The zero value is ready; call Remove when the tests are done (in TestMain).
type Builder struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
	errs map[string]error
}

// Binary builds pkg (./cmd/x, relative to dir, which is inside the module that owns it)
// once and returns the binary's path. Tests that need one are skipped with -short.
func (b *Builder) Binary(t testing.TB, dir, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a child process: skipped with -short")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	key := filepath.Join(dir, pkg)
	if p, ok := b.bins[key]; ok {
		return p
	}
	if err, ok := b.errs[key]; ok {
		t.Fatal(err)
	}
	if b.dir == "" {
		tmp, err := os.MkdirTemp("", "reliability-bin")
		if err != nil {
			t.Fatal(err)
		}
		b.dir, b.bins, b.errs = tmp, map[string]string{}, map[string]error{}
	}
	out := filepath.Join(b.dir, fmt.Sprintf("%d-%s", len(b.bins), filepath.Base(pkg)))
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.errs[key] = fmt.Errorf("build %s in %s: %v\n%s", pkg, dir, err, out)
		t.Fatal(b.errs[key])
	}
	b.bins[key] = out
	return out
}

// Remove deletes the binaries built so far.
func (b *Builder) Remove() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
		b.dir, b.bins, b.errs = "", nil, nil
	}
}

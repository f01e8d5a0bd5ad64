package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The crash tests run cmd/app and cmd/minirocketmq as child processes, built once per
// test run into a temporary directory (with -race when the tests have it).

var builds struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
	errs map[string]error
}

// binary builds ./cmd/<name> once and returns its path; tests that need one are
// skipped with -short.
func binary(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a child process: skipped with -short")
	}
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if p, ok := builds.bins[name]; ok {
		return p
	}
	if err, ok := builds.errs[name]; ok {
		t.Fatal(err)
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "reliability-bin")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins, builds.errs = dir, map[string]string{}, map[string]error{}
	}
	out := filepath.Join(builds.dir, name)
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	// Built in the module that owns it: the service at the repository root, the broker in
	// the library (rocketmq/).
	cmd := exec.Command("go", append(args, "./cmd/"+name)...)
	cmd.Dir = "../.."
	if name == "minirocketmq" {
		cmd.Dir = "../../rocketmq"
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		builds.errs[name] = fmt.Errorf("build cmd/%s: %v\n%s", name, err, b)
		t.Fatal(builds.errs[name])
	}
	builds.bins[name] = out
	return out
}

func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
}

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
// dir, and check that the result builds, vets, passes its own tests (the root module's
// go test ./..., which does not descend into rocketmq/ or test/) and serves /healthz, and
// that no file still names the template's module path:
//   - kratos new NAME -r REPO: every file copied (.git/.github skipped), the module path
//     replaced byte for byte with the bare NAME (see README, "Creating a service");
//   - make new NAME=... MODULE=...: this package's Copy;
//   - gonew SRC DST: the module zip, which leaves nested modules (rocketmq/, test/) out;
//     the module line and Go import paths rewritten; then the one extra step the README
//     gives (go mod edit -replace of the library to a checkout).
// make test runs the copies' tests with -short (no process tests); make test-copies
// (NEWSERVICE_FULL_TESTS=1) runs them in full.

// templateModule is the template's module path, spelled so that no rename rewrites it:
// kratos new and make new replace the bytes of the path, gonew rewrites imports only.
// A copy compares its own go.mod with it to know that it is not the template.
const templateModule = "github.com/kratos-rocketmq/" + "layout"

// libraryModule is the library's module path (its own, so renames leave it alone).
const libraryModule = "github.com/kratos-rocketmq/rocketmq"

// envFullCopyTests, when set, makes the copies run their tests without -short (make
// test-copies): the process tests and the README walkthrough of each copy included.
const envFullCopyTests = "NEWSERVICE_FULL_TESTS"

// skipUnlessTemplate skips the rename tests everywhere but in the template itself: in a
// service made from it they would rename the service, which proves nothing about the
// template.
func skipUnlessTemplate(t *testing.T, root string) {
	t.Helper()
	if testing.Short() {
		t.Skip("renamed copies build and test the whole service: skipped with -short")
	}
	m, err := ModulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	if !isTemplate(m) {
		t.Skipf("module %s is a service made from the template %s, not the template: the rename tests check the template only", m, templateModule)
	}
}

// isTemplate reports whether module is the template's own module path: a service made
// from it (kratos new, gonew, make new) has another, and does not run the rename tests.
func isTemplate(module string) bool { return module == templateModule }

func TestIsTemplate(t *testing.T) {
	for _, tc := range []struct {
		module string
		want   bool
	}{
		{templateModule, true},
		{"shop", false},
		{"example.com/acme/shop", false},
		{templateModule + "/test", false},
		{"", false},
	} {
		if got := isTemplate(tc.module); got != tc.want {
			t.Errorf("isTemplate(%q) = %v, want %v", tc.module, got, tc.want)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
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

// gonew emulates golang.org/x/tools/cmd/gonew: it copies what the module zip holds (no
// nested module: a directory with its own go.mod is left out, with everything below it),
// rewrites the module line and the import paths of Go files, and changes nothing else.
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
	nested := nestedModules(t, root, files)
	for _, rel := range files {
		if inAny(rel, nested) {
			continue
		}
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
			data = rewriteImports(t, rel, data, old, module)
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

// nestedModules lists the directories of files (relative to root) that hold a go.mod of
// their own: rocketmq/ and test/.
func nestedModules(t *testing.T, root string, files []string) []string {
	t.Helper()
	var dirs []string
	for _, rel := range files {
		if filepath.Base(rel) == "go.mod" && filepath.Dir(rel) != "." {
			dirs = append(dirs, filepath.Dir(rel)+string(filepath.Separator))
		}
	}
	if len(dirs) < 2 {
		t.Fatalf("nested modules of %s: %v, want rocketmq/ and test/", root, dirs)
	}
	return dirs
}

func inAny(rel string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d) {
			return true
		}
	}
	return false
}

// rewriteImports rewrites the import paths under old to module, as gonew does.
func rewriteImports(t *testing.T, rel string, data []byte, old, module string) []byte {
	t.Helper()
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
	if !changed {
		return data
	}
	var buf bytes.Buffer
	if err := (&printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}).Fprint(&buf, fset, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenamedServices(t *testing.T) {
	root := repoRoot(t)
	skipUnlessTemplate(t, root)
	tests := []struct {
		name    string
		module  string
		create  func(t *testing.T, dest, module string)
		library bool // the copy holds rocketmq/ (gonew's does not: the README's extra step)
	}{
		{"kratos new", "shop", func(t *testing.T, dest, m string) { kratosNew(t, root, dest, m) }, true},
		{"make new", "example.com/acme/shop", func(t *testing.T, dest, m string) {
			if _, err := Copy(root, dest, m); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"gonew", "example.com/acme/gonewshop", func(t *testing.T, dest, m string) { gonew(t, root, dest, m) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "svc")
			tc.create(t, dest, tc.module)
			if got, _ := ModulePath(dest); got != tc.module {
				t.Fatalf("module of the copy = %q, want %q", got, tc.module)
			}
			// gonew rewrites Go imports only: README and the like still name the template.
			assertNoMention(t, dest, templateModule, !tc.library)
			if tc.library {
				assertSameTree(t, filepath.Join(root, "rocketmq"), filepath.Join(dest, "rocketmq"))
			} else {
				if _, err := os.Stat(filepath.Join(dest, "rocketmq")); err == nil {
					t.Fatal("the gonew copy holds rocketmq/: a module zip has no nested module")
				}
				// README, "Creating a service": point the replace at a checkout of the library.
				goCmd(t, dest, "mod", "edit", "-replace", libraryModule+"="+filepath.Join(root, "rocketmq"))
			}
			goCmd(t, dest, "build", "./...")
			goCmd(t, dest, "vet", "./...")
			args := []string{"test", "-short", "-count=1", "./..."}
			if os.Getenv(envFullCopyTests) != "" {
				args = []string{"test", "-count=1", "./..."}
			}
			goCmd(t, dest, args...)
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
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// assertSameTree fails t unless every file below want is in got with the same bytes: a
// rename must leave the library alone.
func assertSameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(want, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, path)
		a, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			if os.IsNotExist(err) && !tracked(t, want, rel) {
				return nil // build output or a profile, not part of the template
			}
			t.Errorf("library file %s: %v", rel, err)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("library file %s was changed by the rename", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d library files compared", n)
	}
}

// tracked reports whether rel (below dir) is a file of the template (tracked or
// untracked-but-not-ignored by git).
func tracked(t *testing.T, dir, rel string) bool {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "--", rel)
	cmd.Dir = dir
	out, err := cmd.Output()
	return err != nil || len(bytes.TrimSpace(out)) > 0
}

// assertNoMention fails t for every file below dir (every Go file with goOnly) that
// mentions old.
func assertNoMention(t *testing.T, dir, old string, goOnly bool) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (goOnly && !strings.HasSuffix(path, ".go")) {
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

// Command newservice copies this template into a new service with its own module path:
// every file is copied (tracked and untracked-but-not-ignored files; .git and .github
// skipped) and every occurrence of the template's module path is replaced, byte for byte,
// with the new one. `make new NAME=shop MODULE=example.com/acme/shop` runs it from the
// template's root; by hand, from test/ (this maintainer module):
//
//	go run ./newservice -src .. -module example.com/acme/shop -out ../../shop
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	module := flag.String("module", "", "module path of the new service, e.g. example.com/acme/shop (required)")
	out := flag.String("out", "", "directory to create (default: <last element of -module> beside the template root)")
	src := flag.String("src", "..", "template root (the directory holding the service's go.mod)")
	flag.Parse()
	if *module == "" {
		fmt.Fprintln(os.Stderr, "newservice: -module is required")
		flag.Usage()
		os.Exit(2)
	}
	dest := *out
	if dest == "" {
		dest = filepath.Join(*src, "..", filepath.Base(*module))
	}
	n, err := Copy(*src, dest, *module)
	if err != nil {
		fmt.Fprintln(os.Stderr, "newservice:", err)
		os.Exit(1)
	}
	fmt.Printf("created %s (%d files, module %s)\nnext: cd %s && git init && make test\n", dest, n, *module, dest)
}

// ModulePath reads the module path from root/go.mod.
func ModulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod has no module line", root)
}

// Copy copies the template at src into dest (which must not exist or be empty), rewriting
// the module path to module. It returns the number of files written.
func Copy(src, dest, module string) (int, error) {
	old, err := ModulePath(src)
	if err != nil {
		return 0, err
	}
	if module == old {
		return 0, fmt.Errorf("the new module path equals the template's (%s)", old)
	}
	if entries, err := os.ReadDir(dest); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("%s exists and is not empty", dest)
	}
	files, err := templateFiles(src)
	if err != nil {
		return 0, err
	}
	for _, rel := range files {
		from := filepath.Join(src, rel)
		info, err := os.Lstat(from)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted in the working tree
			}
			return 0, err
		}
		if !info.Mode().IsRegular() {
			return 0, fmt.Errorf("%s is not a regular file (the template must not contain links)", rel)
		}
		data, err := os.ReadFile(from)
		if err != nil {
			return 0, err
		}
		to := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(to, bytes.ReplaceAll(data, []byte(old), []byte(module)), info.Mode().Perm()); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// templateFiles lists the files of the template relative to src: what git tracks plus
// untracked files it does not ignore; without git, every file but build output.
func templateFiles(src string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" && !skipped(f) {
				files = append(files, filepath.FromSlash(f))
			}
		}
		return dedup(files), nil
	}
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel != "." && (skipped(filepath.ToSlash(rel)) || rel == "bin" || rel == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		files = append(files, rel)
		return nil
	})
	return files, err
}

// skipped reports whether a path is inside .git or .github at any depth.
func skipped(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if part == ".git" || part == ".github" {
			return true
		}
	}
	return false
}

func dedup(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, f := range in {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

package protoconf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/encoding"
)

// fileSource loads configuration files. A directory contributes its base files (one dot in
// the name: config.yaml, logging.json) and, when a profile is set, the overlays of that
// profile (config.docker.yaml for profile "docker"), each after its base file so the overlay
// wins. Every file is decoded while loading, so a syntax error names the file and the line.
type fileSource struct {
	path    string
	profile string
}

// NewFileSource returns a config.Source for a file or a directory of YAML/JSON files.
// profile selects overlay files named <base>.<profile>.<ext> in a directory; "" loads base
// files only.
func NewFileSource(path, profile string) config.Source {
	return &fileSource{path: path, profile: profile}
}

func (s *fileSource) files() ([]string, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config path %s does not exist (use -conf to point at a file or directory)", s.path)
		}
		return nil, fmt.Errorf("config path %s: %w", s.path, err)
	}
	if !fi.IsDir() {
		return []string{s.path}, nil
	}
	entries, err := os.ReadDir(s.path)
	if err != nil {
		return nil, fmt.Errorf("read config directory %s: %w", s.path, err)
	}
	type ranked struct {
		name string
		base string
		rank int // 0 base file, 1 overlay of the selected profile
	}
	var picked []ranked
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || encoding.GetCodec(format(name)) == nil {
			continue
		}
		parts := strings.Split(name, ".")
		switch {
		case len(parts) == 2:
			picked = append(picked, ranked{name: name, base: parts[0]})
		case len(parts) == 3 && s.profile != "" && parts[1] == s.profile:
			picked = append(picked, ranked{name: name, base: parts[0], rank: 1})
		}
	}
	if len(picked) == 0 {
		return nil, fmt.Errorf("config directory %s has no .yaml, .yml or .json file", s.path)
	}
	sort.Slice(picked, func(i, j int) bool {
		if picked[i].base != picked[j].base {
			return picked[i].base < picked[j].base
		}
		return picked[i].rank < picked[j].rank
	})
	out := make([]string, len(picked))
	for i, p := range picked {
		out[i] = filepath.Join(s.path, p.name)
	}
	return out, nil
}

// Load reads and syntax-checks every selected file.
func (s *fileSource) Load() ([]*config.KeyValue, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	kvs := make([]*config.KeyValue, 0, len(files))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file %s: %w", path, err)
		}
		kv := &config.KeyValue{Key: path, Format: format(path), Value: data}
		codec := encoding.GetCodec(kv.Format)
		if codec == nil {
			return nil, fmt.Errorf("config file %s: unsupported format %q", path, kv.Format)
		}
		var probe map[string]any
		if err := codec.Unmarshal(data, &probe); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

// Watch reports the whole selected file set again whenever a file in the path changes.
func (s *fileSource) Watch() (config.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch config path %s: %w", s.path, err)
	}
	if err := w.Add(s.path); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("watch config path %s: %w", s.path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &fileWatcher{src: s, fsw: w, ctx: ctx, cancel: cancel}, nil
}

type fileWatcher struct {
	src    *fileSource
	fsw    *fsnotify.Watcher
	ctx    context.Context
	cancel context.CancelFunc
}

// Next blocks until a watched file changes and returns the reloaded files, or returns
// context.Canceled once Stop was called.
func (w *fileWatcher) Next() ([]*config.KeyValue, error) {
	for {
		select {
		case <-w.ctx.Done():
			return nil, w.ctx.Err()
		case err := <-w.fsw.Errors:
			return nil, fmt.Errorf("watch config path %s: %w", w.src.path, err)
		case ev := <-w.fsw.Events:
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) == 0 {
				continue
			}
			if ev.Op&(fsnotify.Rename|fsnotify.Remove) != 0 && ev.Name == w.src.path {
				// Editors replace files by rename: watch the new inode.
				_ = w.fsw.Remove(ev.Name)
				if err := w.fsw.Add(ev.Name); err != nil {
					return nil, fmt.Errorf("watch config path %s: %w", w.src.path, err)
				}
			}
			// Writers truncate, then write, often in several steps: let them finish.
			if err := w.settle(); err != nil {
				return nil, err
			}
			return w.src.Load()
		}
	}
}

// settleTime is how long a watched path must be quiet before it is read again.
const settleTime = 100 * time.Millisecond

// settle waits until no event arrived for settleTime.
func (w *fileWatcher) settle() error {
	t := time.NewTimer(settleTime)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return w.ctx.Err()
		case <-w.fsw.Events:
			t.Reset(settleTime)
		case <-t.C:
			return nil
		}
	}
}

// Stop ends the watch and unblocks Next.
func (w *fileWatcher) Stop() error {
	w.cancel()
	return w.fsw.Close()
}

func format(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

package applog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/config/file"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/applog"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// syncBuffer is a bytes.Buffer safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLevelSet(t *testing.T) {
	var lvl applog.Level
	if lvl.Get() != log.LevelInfo {
		t.Errorf("zero Level = %v, want info", lvl.Get())
	}
	for in, want := range map[string]log.Level{"debug": log.LevelDebug, " WARN ": log.LevelWarn, "Error": log.LevelError, "info": log.LevelInfo} {
		if err := lvl.Set(in); err != nil || lvl.Get() != want {
			t.Errorf("Set(%q) = %v, level %v; want %v", in, err, lvl.Get(), want)
		}
	}
	_ = lvl.Set("info")
	if err := lvl.Set("loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("Set(loud) = %v, want an error naming it", err)
	}
	if lvl.Get() != log.LevelInfo {
		t.Errorf("a refused level changed the level to %v", lvl.Get())
	}
}

func TestNewWritesFieldsAndFilters(t *testing.T) {
	var out bytes.Buffer
	var lvl applog.Level
	_ = lvl.Set("warn")
	h := log.NewHelper(applog.New(&out, &lvl, "service.name", "orders"))
	h.Infow("msg", "dropped")
	h.Warnw("msg", "kept")
	_ = lvl.Set("debug")
	h.Debugw("msg", "kept too")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %q, want the warn and the later debug line", lines)
	}
	if !regexp.MustCompile(`^WARN ts=\S+ caller=\S*applog_test.go:\d+ service.name=orders trace.id= span.id= msg=kept$`).MatchString(lines[0]) {
		t.Errorf("line = %q", lines[0])
	}
}

func TestGlobalNamesTheCallerAndResets(t *testing.T) {
	old := log.GetLogger()
	t.Cleanup(func() { log.SetLogger(old) })
	var out bytes.Buffer
	var lvl applog.Level
	g := applog.InstallGlobal(&out, &lvl, "service.name", "before")
	log.Infow("msg", "one") // Kratos' global, as its servers log
	g.Reset(&out, &lvl, "service.name", "after")
	log.Infow("msg", "two")
	// The caller is the line that logged, not Global or Kratos' global helpers.
	want := regexp.MustCompile(`(?m)^INFO ts=\S+ caller=\S*applog_test\.go:\d+ service\.name=before .*msg=one\n` +
		`INFO ts=\S+ caller=\S*applog_test\.go:\d+ service\.name=after .*msg=two\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("global log:\n%s", out.String())
	}
}

func TestWatchLevel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write := func(level string) {
		if err := os.WriteFile(path, []byte("app:\n  log:\n    level: "+level+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("info")
	cfg := config.New(config.WithSource(file.NewSource(path)))
	if err := cfg.Load(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cfg.Close() })
	var lvl applog.Level
	out := &syncBuffer{}
	applog.WatchLevel(cfg, "app.log.level", &lvl, applog.New(out, &lvl))
	write("debug")
	poll.Until(t, 10*time.Second, "the level to become debug", func() bool { return lvl.Get() == log.LevelDebug })
	write("loud")
	poll.Until(t, 10*time.Second, "the invalid level to be refused", func() bool {
		return strings.Contains(out.String(), "ignoring a changed configuration value")
	})
	if lvl.Get() != log.LevelDebug {
		t.Errorf("level %v after an invalid change, want debug kept", lvl.Get())
	}
}

package nacos

import (
	"context"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

var _ config.Watcher = (*watcher)(nil)

// watcher turns the client's change callbacks into Next results. The client calls
// onChange on a new goroutine per change; onChange only leaves a wake-up (with the pushed
// content) in a one-slot mailbox, replacing one Next has not taken yet, so it never
// blocks the client, before or after Stop. Next runs on one goroutine (Kratos' watch
// loop) and owns last.
type watcher struct {
	src    *source
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan string  // capacity 1: content of the latest unhandled push
	resync *time.Ticker // nil without WithResync

	last string // content Next last returned (or Load read); only Next touches it

	stopOnce sync.Once
	stopErr  error
}

func newWatcher(s *source, last string) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{
		src: s, ctx: ctx, cancel: cancel, last: last,
		wake: make(chan string, 1),
	}
	if s.opts.resync > 0 {
		w.resync = time.NewTicker(s.opts.resync)
	}
	return w
}

// onChange is the client's listener.
func (w *watcher) onChange(_, group, dataID, content string) {
	if group != w.src.opts.group || dataID != w.src.opts.dataID {
		return
	}
	for {
		select {
		case w.wake <- content:
			return
		default:
		}
		select { // a push Next has not handled yet: this one supersedes it
		case <-w.wake:
		default:
		}
	}
}

// Next blocks until the configuration changed and returns its new version, or returns
// context.Canceled once Stop was called.
func (w *watcher) Next() ([]*config.KeyValue, error) {
	var resync <-chan time.Time
	if w.resync != nil {
		resync = w.resync.C
	}
	for {
		var pushed string
		notified := false
		select {
		case <-w.ctx.Done():
			return nil, w.ctx.Err()
		case pushed = <-w.wake:
			notified = true
		case <-resync:
		}
		// Re-read rather than trust the push: the client delivers each change on its own
		// goroutine, so two quick changes can arrive in either order.
		content, err := w.src.read(w.ctx)
		switch {
		case err == nil:
		case w.ctx.Err() != nil:
			return nil, w.ctx.Err()
		case notified:
			w.src.logger().Warnw("msg", "re-reading the changed configuration failed, using the pushed content", "error", err)
			content = pushed
		default:
			w.src.logger().Warnw("msg", "periodic re-read of the configuration failed", "error", err)
			continue
		}
		switch {
		case content == "":
			if notified {
				w.src.logger().Warnw("msg", "configuration deleted in Nacos, keeping the previous one")
			}
			continue
		case content == w.last:
			continue
		}
		kv := w.src.keyValue(content)
		if err := w.src.decodes(kv); err != nil {
			w.src.logger().Errorw("msg", "ignoring a changed configuration that does not decode, keeping the previous one", "error", err)
			w.last = content // report it once, not on every resync
			continue
		}
		w.last = content
		return []*config.KeyValue{kv}, nil
	}
}

// Stop cancels the client's listener and makes Next return context.Canceled. Later calls
// return the first call's result.
func (w *watcher) Stop() error {
	w.stopOnce.Do(func() {
		w.cancel()
		if w.resync != nil {
			w.resync.Stop()
		}
		err := w.src.client.CancelListenConfig(vo.ConfigParam{DataId: w.src.opts.dataID, Group: w.src.opts.group})
		if err != nil {
			w.stopErr = w.src.errorf("stop watching", err)
		}
	})
	return w.stopErr
}

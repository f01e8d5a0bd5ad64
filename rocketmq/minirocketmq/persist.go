package minirocketmq

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/disk"
)

// A data directory (WithDataDir) holds:
//
//	<dir>/store/                       messages: package store/disk
//	<dir>/config/topics.json           {"topicConfigTable":{...},"dataVersion":{...}}
//	<dir>/config/subscriptionGroup.json {"subscriptionGroupTable":{...},"dataVersion":{...}}
//	<dir>/config/consumerOffset.json   {"offsetTable":{"<topic>@<group>":{"<queueId>":offset}}}
//
// The three tables have the shape of the Java broker's files of the same
// names (standard JSON: queue ids are quoted). They are loaded by New;
// topics and groups are written whenever they change (persistConfigs),
// consumer offsets by the persister goroutine every persist interval when
// they changed, and everything by Close. Each file is replaced atomically (temporary file,
// fsync, rename), so a crash leaves the previous or the new version.
// Pending transactions and delayed messages live in the store (half
// messages, SCHEDULE_TOPIC_XXXX) and their cursors in the offset table, so
// they come back with it.

const (
	storeSubdir        = "store"
	configSubdir       = "config"
	topicsFile         = "topics.json"
	groupsFile         = "subscriptionGroup.json"
	consumerOffsetFile = "consumerOffset.json"
)

// persister remembers which versions of the tables are on disk. Owner: its
// mutex, held while a table is written: the persister goroutine writes the
// offsets (and whatever else changed) every persist interval, requests that
// change topics or groups write those at once (persistConfigs), Close
// writes the rest.
type persister struct {
	mu                             sync.Mutex
	dir                            string
	topics, groups                 dataVersion // versions written
	offsets                        int64
	topicsSet, groupsSet, offsetOK bool
}

type topicsJSON struct {
	TopicConfigTable map[string]*TopicConfig `json:"topicConfigTable"`
	DataVersion      dataVersion             `json:"dataVersion"`
}

type groupsJSON struct {
	SubscriptionGroupTable map[string]*SubscriptionGroupConfig `json:"subscriptionGroupTable"`
	DataVersion            dataVersion                         `json:"dataVersion"`
}

type offsetsJSON struct {
	OffsetTable map[string]map[string]int64 `json:"offsetTable"`
}

// openDataDir opens the durable store and loads the tables. Called by New.
func (b *Broker) openDataDir() error {
	d := b.cfg.dur
	if b.cfg.store != nil {
		return errors.New("minirocketmq: WithDataDir and WithStore cannot be combined")
	}
	logf := func(format string, args ...any) { b.log.Logf(LogLevelInfo, format, args...) }
	age, bytes := d.retentionPolicy()
	opts := []disk.Option{
		disk.WithNow(b.clock.Now),
		disk.WithFlushInterval(d.flushInterval),
		disk.WithRetention(age, bytes),
		disk.WithKeeper(b.retentionKeep),
		disk.WithLogf(logf),
	}
	if d.segmentSize > 0 {
		opts = append(opts, disk.WithSegmentSize(d.segmentSize))
	}
	s, err := disk.Open(filepath.Join(d.dataDir, storeSubdir), opts...)
	if err != nil {
		return fmt.Errorf("minirocketmq: open data directory %s: %w", d.dataDir, err)
	}
	b.store = s
	b.persist = &persister{dir: filepath.Join(d.dataDir, configSubdir)}
	return nil
}

// loadDataDir loads the tables of the data directory over the built-in
// ones. Called at the end of New.
func (b *Broker) loadDataDir() error {
	if err := b.loadTables(); err != nil {
		return fmt.Errorf("minirocketmq: load data directory %s: %w", b.cfg.dur.dataDir, err)
	}
	s, ok := b.store.(*disk.Store)
	if !ok {
		return nil
	}
	// Topics whose messages survived but whose config a crash lost before
	// it was written come back with the queues found in the store.
	for topic, n := range s.Queues() {
		if b.topics.get(topic) != nil {
			continue
		}
		queues := int(n)
		if !strings.HasPrefix(topic, RetryGroupTopicPrefix) && !strings.HasPrefix(topic, DLQGroupTopicPrefix) {
			queues = max(queues, b.cfg.defaultQueues)
		}
		b.topics.put(&TopicConfig{TopicName: topic, ReadQueueNums: queues, WriteQueueNums: queues, Perm: PermRead | PermWrite, TopicFilterType: "SINGLE_TAG"})
		b.log.Logf(LogLevelWarn, "topic %s has messages but no config (lost in a crash); recreated with %d queues", topic, queues)
	}
	return nil
}

func (b *Broker) loadTables() error {
	p := b.persist
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", p.dir, err)
	}
	var tj topicsJSON
	if ok, err := readJSON(filepath.Join(p.dir, topicsFile), &tj); err != nil {
		return err
	} else if ok {
		for name, tc := range tj.TopicConfigTable {
			if tc == nil {
				continue
			}
			tc.TopicName = name
			b.topics.put(tc)
		}
	}
	var gj groupsJSON
	if ok, err := readJSON(filepath.Join(p.dir, groupsFile), &gj); err != nil {
		return err
	} else if ok {
		for name, gc := range gj.SubscriptionGroupTable {
			if gc == nil {
				continue
			}
			gc.GroupName = name
			b.groups.put(gc)
		}
	}
	var oj offsetsJSON
	if ok, err := readJSON(filepath.Join(p.dir, consumerOffsetFile), &oj); err != nil {
		return err
	} else if ok {
		for key, queues := range oj.OffsetTable {
			topic, group, found := strings.Cut(key, "@")
			if !found {
				return fmt.Errorf("%s: bad key %q (want topic@group)", consumerOffsetFile, key)
			}
			for q, off := range queues {
				id, err := strconv.ParseInt(q, 10, 32)
				if err != nil {
					return fmt.Errorf("%s: %s: bad queue id %q", consumerOffsetFile, key, q)
				}
				b.offsets.commit(group, topic, int32(id), off)
			}
		}
	}
	// What was just loaded is what is on disk.
	_, p.topics = b.topics.snapshot()
	_, p.groups = b.groups.snapshot()
	_, p.offsets = b.offsets.snapshot()
	p.topicsSet, p.groupsSet, p.offsetOK = true, true, true
	return nil
}

func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("parse %s: %w", path, err)
	}
	return true, nil
}

// persistLoop writes changed tables every persist interval until Close.
func (b *Broker) persistLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.dur.persistInterval)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			if err := b.persistTables(); err != nil {
				b.log.Logf(LogLevelError, "persist broker tables: %v", err)
			}
		}
	}
}

// persistConfigs writes the topic and subscription group tables now if
// they changed, each atomically (temporary file, fsync, rename, fsync of
// the directory), as the real broker persists topics.json and
// subscriptionGroup.json on every change: a crash right after a topic or
// group was created, updated or deleted keeps the change. Consumer offsets
// are written every persist interval. Without a data directory it does
// nothing.
func (b *Broker) persistConfigs() error {
	p := b.persist
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return b.persistConfigsLocked()
}

// persistConfigsOrLog is persistConfigs for changes nobody waits for
// (auto-created topics and groups): a failure is logged, and the next
// persist interval tries again.
func (b *Broker) persistConfigsOrLog() {
	if err := b.persistConfigs(); err != nil {
		b.log.Logf(LogLevelError, "persist topic and group configs: %v", err)
	}
}

func (b *Broker) persistConfigsLocked() error {
	p := b.persist
	var errs []error
	if v := b.topics.dataVersion(); !p.topicsSet || v != p.topics {
		list, v := b.topics.snapshot()
		tj := topicsJSON{TopicConfigTable: make(map[string]*TopicConfig, len(list)), DataVersion: v}
		for _, tc := range list {
			tj.TopicConfigTable[tc.TopicName] = tc
		}
		if err := writeJSON(filepath.Join(p.dir, topicsFile), tj); err != nil {
			errs = append(errs, err)
		} else {
			p.topics, p.topicsSet = v, true
		}
	}
	if v := b.groups.dataVersion(); !p.groupsSet || v != p.groups {
		list, v := b.groups.snapshot()
		gj := groupsJSON{SubscriptionGroupTable: make(map[string]*SubscriptionGroupConfig, len(list)), DataVersion: v}
		for _, gc := range list {
			gj.SubscriptionGroupTable[gc.GroupName] = gc
		}
		if err := writeJSON(filepath.Join(p.dir, groupsFile), gj); err != nil {
			errs = append(errs, err)
		} else {
			p.groups, p.groupsSet = v, true
		}
	}
	return errors.Join(errs...)
}

// persistTables writes the tables whose version changed since they were
// last written.
func (b *Broker) persistTables() error {
	p := b.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := []error{b.persistConfigsLocked()}
	if m, v := b.offsets.snapshot(); !p.offsetOK || v != p.offsets {
		oj := offsetsJSON{OffsetTable: make(map[string]map[string]int64)}
		for k, off := range m {
			key := k.topic + "@" + k.group
			if oj.OffsetTable[key] == nil {
				oj.OffsetTable[key] = make(map[string]int64)
			}
			oj.OffsetTable[key][strconv.Itoa(int(k.queueID))] = off
		}
		if err := writeJSON(filepath.Join(p.dir, consumerOffsetFile), oj); err != nil {
			errs = append(errs, err)
		} else {
			p.offsets, p.offsetOK = v, true
		}
	}
	return errors.Join(errs...)
}

// writeJSON replaces path with v's JSON: temporary file, fsync, rename,
// fsync of the directory.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", tmp, werr)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Dir(path), err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

// storesMessage reports whether a successful answer to a request code
// means a message was stored; with SYNC_FLUSH such answers wait for the
// fsync (dispatch).
func storesMessage(code int16) bool {
	switch code {
	case remoting.SendMessage, remoting.SendMessageV2, remoting.SendBatchMessage,
		remoting.ConsumerSendMsgBack, remoting.EndTransaction,
		remoting.SendReplyMessage, remoting.SendReplyMessageV2:
		return true
	}
	return false
}

// respondWhenDurable answers req with resp once the store has fsynced
// everything written so far (SYNC_FLUSH group commit); a failed fsync
// turns the answer into SYSTEM_ERROR. It runs after the handler stored the
// message, so the fsync covers it. An fsync that takes longer than
// syncFlushTimeout answers FLUSH_DISK_TIMEOUT (10) at that point, with the
// send result (the message is stored; a client counts it as sent with
// that status rather than sending it again), as the real broker's
// GroupCommitService does; whichever comes first answers.
func (b *Broker) respondWhenDurable(c *conn, req, resp *remoting.Command) {
	var answered atomic.Bool
	timer := time.AfterFunc(b.cfg.dur.syncFlushTimeoutOrDefault(), func() {
		if !answered.CompareAndSwap(false, true) {
			return
		}
		late := remoting.NewResponse(req, remoting.FlushDiskTimeout, "")
		late.Ext = resp.Ext
		b.log.Logf(LogLevelWarn, "flush before acknowledging request %d from %s took longer than %v: answered FLUSH_DISK_TIMEOUT", req.Code, c.RemoteAddr(), b.cfg.dur.syncFlushTimeoutOrDefault())
		if err := b.respond(c, req, late); err != nil {
			b.log.Logf(LogLevelDebug, "answer to %s: %v", c.RemoteAddr(), err)
		}
	})
	b.syncer.AfterSync(func(err error) {
		defer func() {
			if p := recover(); p != nil {
				_ = b.recovered(c, req, p)
				go c.FlushAndClose() // not on the store's flusher
			}
		}()
		timer.Stop()
		if !answered.CompareAndSwap(false, true) {
			return
		}
		if err != nil {
			b.log.Logf(LogLevelError, "flush before acknowledging request %d from %s: %v", req.Code, c.RemoteAddr(), err)
			resp = remoting.NewResponse(req, remoting.SystemError, remarkf(msgFlushFailed, err))
		}
		if err := b.respond(c, req, resp); err != nil {
			b.log.Logf(LogLevelDebug, "answer to %s after flush: %v", c.RemoteAddr(), err)
		}
	})
}

var _ store.Syncer = (*disk.Store)(nil)

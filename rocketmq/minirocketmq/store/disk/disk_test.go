package disk_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/disk"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/storetest"
)

// TestConformanceFlushing runs the suite with the background goroutines
// writing index files and checkpoints all the time, so reads go through
// the files as well as through the pending entries.
func TestConformanceFlushing(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		s, err := disk.Open(memTempDir(t), disk.WithNow(now), disk.WithSegmentSize(700), disk.WithQueueFileEntries(3),
			disk.WithFlushInterval(time.Millisecond), disk.WithCheckpointInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// memTempDir is t.TempDir on a memory file system when there is one
// (/dev/shm): for the tests that open and close stores many times, which
// are about recovery logic, not about the disk; fsync costs nothing there.
func memTempDir(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "disktest-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func openStore(t testing.TB, dir string, opts ...disk.Option) *disk.Store {
	t.Helper()
	opts = append([]disk.Option{disk.WithLogf(t.Logf)}, opts...)
	s, err := disk.Open(dir, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

func closeStore(t testing.TB, s *disk.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func newMsg(topic string, q int32, body, props string) *message.Message {
	m := &message.Message{
		Topic: topic, QueueID: q, Body: []byte(body), Properties: props,
		BornHost:  netip.MustParseAddrPort("127.0.0.1:1"),
		StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	if tag, ok := message.Property(props, message.PropertyTags); ok {
		m.TagsCode = message.TagsHashCode(tag)
	}
	return m
}

func put(t testing.TB, s store.Store, msgs ...*message.Message) {
	t.Helper()
	if err := s.Put(msgs); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// bodies reads a whole queue from its min offset and returns the bodies.
func bodies(t testing.TB, s store.Store, topic string, q int32) []string {
	t.Helper()
	var out []string
	off := s.MinOffset(topic, q)
	for {
		res, err := s.Get(&store.GetRequest{Topic: topic, QueueID: q, Offset: off, MaxMsgs: 7, MaxBytes: 1 << 20})
		if err != nil {
			t.Fatalf("get %s/%d at %d: %v", topic, q, off, err)
		}
		for recs := res.Records; len(recs) > 0; {
			m, n, err := message.DecodeRecord(recs)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out = append(out, string(m.Body))
			recs = recs[n:]
		}
		if res.Status != store.Found && res.Status != store.NoMatchedMessage {
			return out
		}
		off = res.NextOffset
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestReopen: everything written is found again after Close and Open, and
// writing continues where it stopped.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.UnixMilli(1_000_000)}
	opts := []disk.Option{disk.WithNow(clk.Now), disk.WithSegmentSize(1500), disk.WithQueueFileEntries(4)}
	s := openStore(t, dir, opts...)
	var offsets []int64
	for i := range 40 {
		clk.add(time.Second)
		m := newMsg("T", int32(i%3), fmt.Sprintf("m%02d", i), fmt.Sprintf("KEYS\x01k%d common\x02UNIQ_KEY\x01U%d\x02", i, i))
		put(t, s, m)
		offsets = append(offsets, m.CommitLogOffset)
	}
	closeStore(t, s)

	s = openStore(t, dir, opts...)
	defer closeStore(t, s)
	for q := range int32(3) {
		got := bodies(t, s, "T", q)
		var want []string
		for i := int(q); i < 40; i += 3 {
			want = append(want, fmt.Sprintf("m%02d", i))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("queue %d after reopen: %v, want %v", q, got, want)
		}
	}
	rec, err := s.Lookup(nil, offsets[17])
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if m, _, _ := message.DecodeRecord(rec); string(m.Body) != "m17" {
		t.Fatalf("lookup found %q", m.Body)
	}
	if _, n, err := s.QueryByKey(nil, "T", "common", 100, 0, 1<<62); err != nil || n != 40 {
		t.Fatalf("query common: %d, %v", n, err)
	}
	recs, n, err := s.QueryByKey(nil, "T", "U5", 100, 0, 1<<62)
	if err != nil || n != 1 {
		t.Fatalf("query U5: %d, %v", n, err)
	}
	if m, _, _ := message.DecodeRecord(recs); string(m.Body) != "m05" {
		t.Fatalf("query U5 found %q", m.Body)
	}
	// Message i was stored at 1,000,000 + (i+1)*1000 ms; queue 1 holds 1, 4, 7, ...
	if got := s.OffsetByTime("T", 1, 1_000_000+8_000); got != 2 {
		t.Fatalf("OffsetByTime = %d, want 2 (message 7)", got)
	}
	if got := s.EarliestTime("T", 2); got != 1_003_000 {
		t.Fatalf("EarliestTime = %d", got)
	}
	m := newMsg("T", 1, "after", "")
	put(t, s, m)
	if m.QueueOffset != 13 || m.CommitLogOffset <= offsets[39] {
		t.Fatalf("after reopen: queue offset %d, commit-log offset %d (last before %d)", m.QueueOffset, m.CommitLogOffset, offsets[39])
	}
	clk.add(-time.Hour)
	m = newMsg("T", 1, "late", "")
	put(t, s, m)
	if m.StoreTimestamp < 1_040_000 {
		t.Fatalf("store time went back to %d after reopen", m.StoreTimestamp)
	}
}

// TestCrashRecovery: a crash (no index written, no checkpoint, no fsync)
// loses nothing that Put accepted; the indexes are rebuilt from the log.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	opts := []disk.Option{disk.WithSegmentSize(2000), disk.WithQueueFileEntries(5)}
	s := openStore(t, dir, opts...)
	for i := range 30 {
		put(t, s, newMsg("T", int32(i%2), fmt.Sprint(i), ""))
	}
	closeStore(t, s) // a checkpoint at 30 messages
	s = openStore(t, dir, opts...)
	for i := 30; i < 60; i++ {
		put(t, s, newMsg("T", int32(i%2), fmt.Sprint(i), ""))
		put(t, s, newMsg("U", 0, fmt.Sprint(i), ""))
	}
	s.Crash()

	s = openStore(t, dir, opts...)
	defer closeStore(t, s)
	for q := range int32(2) {
		got := bodies(t, s, "T", q)
		if len(got) != 30 || got[0] != fmt.Sprint(q) || got[29] != fmt.Sprint(58+q) {
			t.Fatalf("queue T/%d after crash: %v", q, got)
		}
	}
	if got := bodies(t, s, "U", 0); len(got) != 30 || got[0] != "30" {
		t.Fatalf("queue U/0 after crash: %v", got)
	}
}

// TestTornTail cuts the last segment at many random points, after a clean
// close and after a crash, and fills the rest with zeros or garbage as a
// torn write can: the store opens every time, serves exactly the records
// that are complete before the cut, and takes new writes at the next queue
// offsets.
func TestTornTail(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	t.Logf("seed %d", seed)

	type written struct {
		q          int32
		body       string
		start, end int64 // frame
	}
	for _, crash := range []bool{false, true} {
		base := memTempDir(t)
		opts := []disk.Option{disk.WithSegmentSize(6000), disk.WithQueueFileEntries(4), disk.WithLogf(func(string, ...any) {})}
		s, err := disk.Open(base, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var ws []written
		for i := range 80 {
			body := strings.Repeat(string(rune('a'+i%26)), 1+rng.IntN(150))
			m := newMsg("T", int32(i%3), body, fmt.Sprintf("KEYS\x01k%d\x02", i))
			put(t, s, m)
			ws = append(ws, written{m.QueueID, body, m.CommitLogOffset, m.CommitLogOffset + 4 + int64(message.RecordSize(m))})
		}
		if crash {
			s.Crash()
		} else {
			closeStore(t, s)
		}
		segs, _ := filepath.Glob(filepath.Join(base, "commitlog", "[0-9]*[0-9]"))
		sort.Strings(segs)
		last := segs[len(segs)-1]
		lastBase, err := strconv.ParseInt(filepath.Base(last), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		end := ws[len(ws)-1].end

		for iter := range 60 {
			cut := lastBase + rng.Int64N(end-lastBase+1)
			fill := rng.IntN(3) // 0: nothing, 1: zeros, 2: garbage
			name := fmt.Sprintf("crash=%v/cut=%d/fill=%d", crash, cut, fill)
			dir := filepath.Join(memTempDir(t), fmt.Sprint(iter))
			copyDir(t, base, dir)
			seg := filepath.Join(dir, "commitlog", filepath.Base(last))
			if err := os.Truncate(seg, cut-lastBase); err != nil {
				t.Fatal(err)
			}
			if fill > 0 {
				junk := make([]byte, 1+rng.IntN(300))
				if fill == 2 {
					for i := range junk {
						junk[i] = byte(rng.Uint32())
					}
				}
				f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
				_, _ = f.Write(junk)
				_ = f.Close()
			}
			s, err := disk.Open(dir, opts...)
			if err != nil {
				t.Fatalf("%s: open: %v (seed %d)", name, err, seed)
			}
			want := map[int32][]string{}
			for _, w := range ws {
				if w.end <= cut {
					want[w.q] = append(want[w.q], w.body)
				}
			}
			for q := range int32(3) {
				got := bodies(t, s, "T", q)
				if fmt.Sprint(got) != fmt.Sprint(want[q]) {
					t.Fatalf("%s: queue %d has %d messages, want %d (seed %d)", name, q, len(got), len(want[q]), seed)
				}
			}
			m := newMsg("T", 0, "new", "")
			put(t, s, m)
			if m.QueueOffset != int64(len(want[0])) {
				t.Fatalf("%s: new message at queue offset %d, want %d (seed %d)", name, m.QueueOffset, len(want[0]), seed)
			}
			if _, n, _ := s.QueryByKey(nil, "T", "k79", 1, 0, 1<<62); (n == 1) != (ws[79].end <= cut) {
				t.Fatalf("%s: key of the last message found %d times (seed %d)", name, n, seed)
			}
			closeStore(t, s)
			s, err = disk.Open(dir, opts...)
			if err != nil {
				t.Fatalf("%s: reopen: %v", name, err)
			}
			if got := bodies(t, s, "T", 0); len(got) != len(want[0])+1 || got[len(got)-1] != "new" {
				t.Fatalf("%s: after reopen queue 0 has %v (seed %d)", name, got, seed)
			}
			closeStore(t, s)
			_ = os.RemoveAll(dir)
		}
	}
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			_ = out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCorruptIndex: a torn index file (a partial last entry) and a lost
// checkpoint are repaired from the log.
func TestCorruptIndex(t *testing.T) {
	dir := t.TempDir()
	opts := []disk.Option{disk.WithQueueFileEntries(1000)}
	s := openStore(t, dir, opts...)
	for i := range 20 {
		put(t, s, newMsg("T", 0, fmt.Sprint(i), ""))
	}
	closeStore(t, s)
	idx := filepath.Join(dir, "consumequeue", "T", "0", fmt.Sprintf("%020d", 0))
	if err := os.Truncate(idx, 28*12+9); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "checkpoint")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, opts...)
	defer closeStore(t, s)
	if got := bodies(t, s, "T", 0); len(got) != 20 || got[19] != "19" {
		t.Fatalf("after repair: %v", got)
	}
}

func TestIncompatibleFormat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("minirocketmq store format 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := disk.Open(dir)
	if !errors.Is(err, disk.ErrIncompatibleFormat) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("open of a version 2 store: %v", err)
	}

	dir = t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "commitlog"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.Open(dir); !errors.Is(err, disk.ErrIncompatibleFormat) {
		t.Fatalf("open of a directory without FORMAT: %v", err)
	}
}

// TestRetention removes sealed segments by age and by size, oldest first;
// queues then start at their first message still stored.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.UnixMilli(1_000_000)}
	body := strings.Repeat("x", 300)
	opts := []disk.Option{disk.WithNow(clk.Now), disk.WithSegmentSize(1000), disk.WithQueueFileEntries(2), disk.WithRetention(time.Hour, 0)}
	s := openStore(t, dir, opts...)
	for i := range 12 { // two messages per segment
		put(t, s, newMsg("T", 0, fmt.Sprint(i, body), ""))
		clk.add(time.Minute)
	}
	if err := s.Retain(); err != nil {
		t.Fatal(err)
	}
	if s.MinOffset("T", 0) != 0 {
		t.Fatalf("retention removed messages younger than an hour")
	}
	clk.add(time.Hour - 8*time.Minute) // messages 0..3 (two segments) are over an hour old
	if err := s.Retain(); err != nil {
		t.Fatal(err)
	}
	if got := s.MinOffset("T", 0); got != 4 {
		t.Fatalf("min offset after age retention: %d, want 4", got)
	}
	res, err := s.Get(&store.GetRequest{Topic: "T", Offset: 1})
	if err != nil || res.Status != store.OffsetTooSmall || res.NextOffset != 4 {
		t.Fatalf("get below the min: %v %v next %d", err, res.Status, res.NextOffset)
	}
	closeStore(t, s)

	// By size: keep at most ~3 segments.
	opts = append(opts[:len(opts)-1], disk.WithRetention(0, 3000))
	s = openStore(t, dir, opts...) // Open applies retention
	defer closeStore(t, s)
	if got := s.MinOffset("T", 0); got != 6 {
		t.Fatalf("min offset after size retention: %d, want 6", got)
	}
	if got := bodies(t, s, "T", 0); len(got) != 6 || !strings.HasPrefix(got[0], "6") {
		t.Fatalf("left after retention: %d messages", len(got))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "consumequeue", "T", "0", "*"))
	if len(files) != 3 {
		t.Fatalf("index files left: %v", files)
	}
}

func TestDeleteTopicPersists(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	for i := range 5 {
		put(t, s, newMsg("T", 0, fmt.Sprint(i), "KEYS\x01k\x02"))
		put(t, s, newMsg("U", 0, fmt.Sprint(i), "KEYS\x01k\x02"))
	}
	if err := s.DeleteTopic("T"); err != nil {
		t.Fatal(err)
	}
	s.Crash() // even without a checkpoint, T must not come back
	s = openStore(t, dir)
	defer closeStore(t, s)
	if s.MaxOffset("T", 0) != 0 || len(bodies(t, s, "U", 0)) != 5 {
		t.Fatalf("after reopen: T max %d, U %v", s.MaxOffset("T", 0), bodies(t, s, "U", 0))
	}
	if _, n, _ := s.QueryByKey(nil, "T", "k", 10, 0, 1<<62); n != 0 {
		t.Fatalf("deleted topic's keys found: %d", n)
	}
	m := newMsg("T", 0, "again", "KEYS\x01k\x02")
	put(t, s, m)
	if m.QueueOffset != 0 {
		t.Fatalf("recreated topic starts at %d", m.QueueOffset)
	}
	if _, n, _ := s.QueryByKey(nil, "T", "k", 10, 0, 1<<62); n != 1 {
		t.Fatalf("recreated topic's key found %d times", n)
	}
}

// TestAfterSync: every caller is answered, after Close too.
func TestAfterSync(t *testing.T) {
	s := openStore(t, t.TempDir(), disk.WithFlushInterval(time.Hour))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			put(t, s, newMsg("T", 0, fmt.Sprint(i), ""))
			done := make(chan error, 1)
			s.AfterSync(func(err error) { done <- err })
			errs <- <-done
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	closeStore(t, s)
	got := make(chan error, 1)
	s.AfterSync(func(err error) { got <- err })
	if err := <-got; !errors.Is(err, store.ErrClosed) {
		t.Fatalf("AfterSync after Close: %v", err)
	}
}

func TestQueues(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer closeStore(t, s)
	put(t, s, newMsg("T", 3, "x", ""))
	put(t, s, newMsg("U", 0, "x", ""))
	if got := fmt.Sprint(s.Queues()); got != "map[T:4 U:1]" {
		t.Fatalf("Queues = %s", got)
	}
}

// TestLostKeyFiles: key files lost in a crash are rebuilt.
func TestLostKeyFiles(t *testing.T) {
	dir := memTempDir(t)
	s := openStore(t, dir, disk.WithSegmentSize(500))
	for i := range 20 {
		put(t, s, newMsg("T", 0, fmt.Sprint(i), fmt.Sprintf("KEYS\x01k%d\x02", i)))
	}
	closeStore(t, s)
	keys, _ := filepath.Glob(filepath.Join(dir, "commitlog", "*.keys"))
	if len(keys) < 3 {
		t.Fatalf("%d key files", len(keys))
	}
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, dir, disk.WithSegmentSize(500))
	defer closeStore(t, s)
	for i := range 20 {
		if _, n, err := s.QueryByKey(nil, "T", fmt.Sprintf("k%d", i), 5, 0, 1<<62); err != nil || n != 1 {
			t.Fatalf("key k%d: %d results, %v", i, n, err)
		}
	}
}

func TestLocked(t *testing.T) {
	dir := memTempDir(t)
	s := openStore(t, dir)
	if _, err := disk.Open(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open of a directory in use: %v", err)
	}
	closeStore(t, s)
	s = openStore(t, dir)
	closeStore(t, s)
}

// TestRetentionKeepsNeeded: a segment holding a message the keeper still
// needs (a pending half message, an undelivered delayed one) is not
// removed, even past the limits, and the store says it is held back; the
// younger segments past the limits go, leaving a gap that reads skip. Once
// the keeper lets go, the next run removes it. The keeper given at Open is
// asked by the retention Open runs.
func TestRetentionKeepsNeeded(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("x", 300)
	var mu sync.Mutex
	needFrom, needed := int64(0), true
	keeper := func(topic string, qid int32) (int64, bool) {
		if topic != "HALF" {
			return 0, false
		}
		mu.Lock()
		defer mu.Unlock()
		return needFrom, needed
	}
	const limit = 2000
	opts := []disk.Option{disk.WithSegmentSize(1000), disk.WithRetention(0, limit), disk.WithKeeper(keeper)}
	s := openStore(t, dir, disk.WithSegmentSize(1000))
	put(t, s, newMsg("HALF", 0, "pending"+body, ""))
	for i := range 10 {
		put(t, s, newMsg("T", 0, fmt.Sprint(i, body), ""))
	}
	closeStore(t, s)
	s = openStore(t, dir, opts...) // Open applies retention
	defer closeStore(t, s)
	st := s.RetentionStats()
	if !st.Blocked || st.RemovedSegments == 0 || st.Bytes > limit+1000 {
		t.Fatalf("with the half message needed: %+v", st)
	}
	if got := bodies(t, s, "HALF", 0); len(got) != 1 {
		t.Fatalf("half message gone: %v", got)
	}
	// T's first message shares the kept segment; the next ones were in
	// removed segments and are skipped; the newest are there.
	got := bodies(t, s, "T", 0)
	if len(got) == 0 || len(got) >= 10 || !strings.HasPrefix(got[0], "0") || !strings.HasPrefix(got[len(got)-1], "9") {
		t.Fatalf("T reads %d messages", len(got))
	}
	mu.Lock()
	needFrom = 1 // resolved: nothing of the queue is needed any more
	mu.Unlock()
	for i := range 4 {
		put(t, s, newMsg("T", 0, fmt.Sprint(10+i, body), ""))
	}
	if err := s.Retain(); err != nil {
		t.Fatal(err)
	}
	st = s.RetentionStats()
	if st.Blocked || s.MinOffset("HALF", 0) != 1 || s.MinOffset("T", 0) == 0 {
		t.Fatalf("after the keeper let go: %+v, HALF starts at %d, T at %d", st, s.MinOffset("HALF", 0), s.MinOffset("T", 0))
	}
}

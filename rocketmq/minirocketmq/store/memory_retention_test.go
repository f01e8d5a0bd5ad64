package store

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// fakeClock is a settable clock for the store's WithNow.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func putN(t *testing.T, m *Memory, topic string, qid int32, n int, key string) []*message.Message {
	t.Helper()
	var out []*message.Message
	for range n {
		msg := &message.Message{Topic: topic, QueueID: qid, Body: []byte(strings.Repeat("x", 400)), Properties: "KEYS\x01" + key + "\x02",
			BornHost: netip.MustParseAddrPort("127.0.0.1:1"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911")}
		if err := m.Put([]*message.Message{msg}); err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

// TestMemoryRetentionBySize: with a size limit, the store never holds more
// than the limit plus one slab: the oldest slabs go, queues start after
// them (a read below gets OFFSET_TOO_SMALL), the key index forgets them,
// and the counters and the log line say what was removed.
func TestMemoryRetentionBySize(t *testing.T) {
	const seg, limit = 4 << 10, 16 << 10
	var logged []string
	m := NewMemory(WithSegmentSize(seg), WithMemoryRetention(0, limit), WithMemoryLogf(func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }))
	t.Cleanup(func() { _ = m.Close() })
	first := putN(t, m, "A", 0, 10, "old")
	for i := range 200 {
		putN(t, m, "A", 0, 1, "new")
		if st := m.RetentionStats(); st.Bytes > limit+seg {
			t.Fatalf("after %d more puts the store holds %d bytes, limit %d + one slab", i+1, st.Bytes, limit)
		}
	}
	st := m.RetentionStats()
	if st.RemovedSegments == 0 || st.RemovedMessages == 0 || st.RemovedBytes == 0 || st.LastRemoval.IsZero() || len(logged) == 0 {
		t.Fatalf("stats %+v, %d log lines", st, len(logged))
	}
	t.Logf("%s", logged[len(logged)-1])
	min := m.MinOffset("A", 0)
	if min == 0 || min != st.RemovedMessages || m.MaxOffset("A", 0) != 210 {
		t.Fatalf("min offset %d (removed %d), max %d", min, st.RemovedMessages, m.MaxOffset("A", 0))
	}
	res, err := m.Get(&GetRequest{Topic: "A", QueueID: 0, Offset: 0})
	if err != nil || res.Status != OffsetTooSmall || res.NextOffset != min {
		t.Fatalf("read below the start: %v %v next %d", err, res.Status, res.NextOffset)
	}
	if _, err := m.Lookup(nil, first[0].CommitLogOffset); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed record still there: %v", err)
	}
	if _, n, _ := m.QueryByKey(nil, "A", "old", 100, 0, 1<<62); n != 0 {
		t.Fatalf("the key index still finds %d removed records", n)
	}
	if len(m.keys) != 1 {
		t.Fatalf("key index holds %d keys, want only %q", len(m.keys), "new")
	}
}

// TestMemoryRetentionByAge: slabs whose newest record is older than the
// age limit go at the next pass; younger ones stay.
func TestMemoryRetentionByAge(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemory(WithNow(clk.now), WithSegmentSize(4<<10), WithMemoryRetention(time.Hour, 0))
	t.Cleanup(func() { _ = m.Close() })
	putN(t, m, "A", 0, 30, "k")
	clk.add(2 * time.Hour)
	if err := m.Retain(); err != nil {
		t.Fatal(err)
	}
	// Only the slab being written stays.
	if min := m.MinOffset("A", 0); min < 20 {
		t.Fatalf("after 2 h the queue still starts at %d", min)
	}
	putN(t, m, "A", 0, 30, "k")
	before := m.MinOffset("A", 0)
	clk.add(30 * time.Minute)
	if err := m.Retain(); err != nil {
		t.Fatal(err)
	}
	if m.MinOffset("A", 0) != before {
		t.Fatalf("records younger than the limit removed: min %d -> %d", before, m.MinOffset("A", 0))
	}
}

// TestMemoryRetentionKeeps: what the keeper still needs survives the
// removal of its slabs, readable by queue offset and by commit-log offset
// (a pending half message, a delayed message), and goes once the keeper
// lets it go; the size limit still holds for everything else.
func TestMemoryRetentionKeeps(t *testing.T) {
	const seg, limit = 4 << 10, 16 << 10
	m := NewMemory(WithSegmentSize(seg), WithMemoryRetention(0, limit))
	t.Cleanup(func() { _ = m.Close() })
	var mu sync.Mutex
	keepFrom := int64(2)
	m.SetKeeper(func(topic string, qid int32) (int64, bool) {
		if topic != "HALF" {
			return 0, false
		}
		mu.Lock()
		defer mu.Unlock()
		return keepFrom, true
	})
	half := putN(t, m, "HALF", 0, 6, "h")
	putN(t, m, "A", 0, 300, "a")
	st := m.RetentionStats()
	if st.KeptMessages != 4 || st.Bytes > limit+seg+st.KeptBytes {
		t.Fatalf("stats %+v: want the 4 needed records kept and the rest under the limit", st)
	}
	if min := m.MinOffset("HALF", 0); min != 2 {
		t.Fatalf("HALF starts at %d, want 2 (the first needed)", min)
	}
	res, err := m.Get(&GetRequest{Topic: "HALF", QueueID: 0, Offset: 2})
	if err != nil || res.Status != Found || res.Count != 4 {
		t.Fatalf("read of the kept records: %v %v, %d records", err, res.Status, res.Count)
	}
	if _, err := m.Lookup(nil, half[3].CommitLogOffset); err != nil {
		t.Fatalf("look-up of a kept record: %v", err)
	}
	mu.Lock()
	keepFrom = 5
	mu.Unlock()
	putN(t, m, "A", 0, 20, "a") // the next passes let 2..4 go
	if st := m.RetentionStats(); st.KeptMessages != 1 {
		t.Fatalf("kept %d records after the keeper moved on, want 1", st.KeptMessages)
	}
	if _, err := m.Lookup(nil, half[3].CommitLogOffset); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a released record is still there: %v", err)
	}
	if err := m.DeleteTopic("HALF"); err != nil {
		t.Fatal(err)
	}
	if st := m.RetentionStats(); st.KeptMessages != 0 || st.KeptBytes != 0 {
		t.Fatalf("after DeleteTopic: kept %d records, %d bytes", st.KeptMessages, st.KeptBytes)
	}
}

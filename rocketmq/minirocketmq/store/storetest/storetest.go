// Package storetest is the conformance suite of store.Store: any
// implementation (the in-memory one, a durable one) runs it from its own
// tests to show it keeps the contract the broker relies on.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
//			s := NewMemory(WithNow(now))
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Factory opens an empty store that stamps messages with now and is
// closed in t.Cleanup.
type Factory func(t testing.TB, now func() time.Time) store.Store

// Run runs the suite against stores made by open.
func Run(t *testing.T, open Factory) {
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open) })
	t.Run("OffsetByTime", func(t *testing.T) { testOffsetByTime(t, open) })
	t.Run("QueryByKeyAndDelete", func(t *testing.T) { testQueryByKeyAndDelete(t, open) })
	t.Run("ConcurrentPutGet", func(t *testing.T) { testConcurrentPutGet(t, open) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
}

// testBatch: a multi-message Put lands contiguously in one queue, each
// message findable by its commit-log offset; a Put spanning queues fails.
func testBatch(t *testing.T, open Factory) {
	s := open(t, time.Now)
	_ = s.Put([]*message.Message{msg("T", 0, "before", "")})
	batch := []*message.Message{msg("T", 0, "b0", ""), msg("T", 0, "b1", ""), msg("T", 0, "b2", "")}
	if err := s.Put(batch); err != nil {
		t.Fatal(err)
	}
	for i, m := range batch {
		if m.QueueOffset != int64(1+i) {
			t.Fatalf("batch member %d at queue offset %d", i, m.QueueOffset)
		}
		if i > 0 && (m.CommitLogOffset <= batch[i-1].CommitLogOffset || m.StoreTimestamp < batch[i-1].StoreTimestamp) {
			t.Fatalf("batch member %d: commit-log offset %d store time %d after %d/%d", i, m.CommitLogOffset, m.StoreTimestamp, batch[i-1].CommitLogOffset, batch[i-1].StoreTimestamp)
		}
		rec, err := s.Lookup(nil, m.CommitLogOffset)
		if err != nil {
			t.Fatalf("look up member %d: %v", i, err)
		}
		got := decodeAll(t, rec)
		if len(got) != 1 || string(got[0].Body) != fmt.Sprintf("b%d", i) || got[0].QueueOffset != m.QueueOffset || got[0].StoreTimestamp != m.StoreTimestamp {
			t.Fatalf("member %d looked up as %+v", i, got)
		}
	}
	if err := s.Put([]*message.Message{msg("T", 0, "x", ""), msg("T", 1, "y", "")}); err == nil {
		t.Fatal("a put spanning two queues succeeded")
	}
	if err := s.Put([]*message.Message{msg(string(make([]byte, 200)), 0, "x", "")}); err == nil {
		t.Fatal("a topic too long for the record format was stored")
	}
}

// testClose: a closed store refuses work.
func testClose(t *testing.T, open Factory) {
	s := open(t, time.Now)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]*message.Message{msg("T", 0, "x", "")}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Put after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Get(&store.GetRequest{Topic: "T"}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
}

// Clock is the settable clock Run hands to the factory; the store must
// stamp messages with its Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (f *Clock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *Clock) set(ms int64) { f.mu.Lock(); f.t = time.UnixMilli(ms); f.mu.Unlock() }

func msg(topic string, q int32, body, props string) *message.Message {
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

func decodeAll(t *testing.T, recs []byte) []*message.Message {
	t.Helper()
	var out []*message.Message
	for len(recs) > 0 {
		m, n, err := message.DecodeRecord(recs)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		out = append(out, m)
		recs = recs[n:]
	}
	return out
}

type tagOnly string

func (f tagOnly) MatchTagsCode(c int64) bool { return c == message.TagsHashCode(string(f)) }
func (f tagOnly) MatchRecord(rec []byte) bool {
	p, _ := message.RecordProperties(rec)
	v, ok := message.PropertyBytes(p, message.PropertyTags)
	return ok && string(v) == string(f)
}

func testPutGet(t *testing.T, open Factory) {
	clk := &Clock{t: time.UnixMilli(1000)}
	s := open(t, clk.Now)

	for i := range 10 {
		tag := "A"
		if i%2 == 1 {
			tag = "B"
		}
		m := msg("T", 1, fmt.Sprintf("m%d", i), "TAGS\x01"+tag+"\x02")
		if err := s.Put([]*message.Message{m}); err != nil {
			t.Fatal(err)
		}
		if m.QueueOffset != int64(i) {
			t.Fatalf("message %d got queue offset %d", i, m.QueueOffset)
		}
	}
	if got := s.MaxOffset("T", 1); got != 10 {
		t.Fatalf("MaxOffset = %d", got)
	}

	tests := []struct {
		name       string
		req        store.GetRequest
		status     store.Status
		bodies     []string
		nextOffset int64
	}{
		{"from start", store.GetRequest{Topic: "T", QueueID: 1, Offset: 0, MaxMsgs: 3}, store.Found, []string{"m0", "m1", "m2"}, 3},
		{"tag filter skips", store.GetRequest{Topic: "T", QueueID: 1, Offset: 1, MaxMsgs: 2, Filter: tagOnly("A")}, store.Found, []string{"m2", "m4"}, 5},
		{"filter matches none in scan", store.GetRequest{Topic: "T", QueueID: 1, Offset: 9, Filter: tagOnly("A")}, store.NoMatchedMessage, nil, 10},
		{"caught up", store.GetRequest{Topic: "T", QueueID: 1, Offset: 10}, store.OffsetOverflowOne, nil, 10},
		{"beyond the end", store.GetRequest{Topic: "T", QueueID: 1, Offset: 50}, store.OffsetOverflowBadly, nil, 10},
		{"unknown queue", store.GetRequest{Topic: "T", QueueID: 2, Offset: 0}, store.NoMessageInQueue, nil, 0},
		{"byte limit still returns one", store.GetRequest{Topic: "T", QueueID: 1, Offset: 0, MaxBytes: 1}, store.Found, []string{"m0"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Get(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || res.NextOffset != tc.nextOffset {
				t.Fatalf("status %v next %d, want %v next %d", res.Status, res.NextOffset, tc.status, tc.nextOffset)
			}
			var bodies []string
			for _, m := range decodeAll(t, res.Records) {
				bodies = append(bodies, string(m.Body))
			}
			if fmt.Sprint(bodies) != fmt.Sprint(tc.bodies) || res.Count != len(tc.bodies) {
				t.Fatalf("bodies %v (count %d), want %v", bodies, res.Count, tc.bodies)
			}
		})
	}

	// Look-up by commit-log offset, also across segments.
	res, _ := s.Get(&store.GetRequest{Topic: "T", QueueID: 1, Offset: 7, MaxMsgs: 1})
	m7 := decodeAll(t, res.Records)[0]
	rec, err := s.Lookup(nil, m7.CommitLogOffset)
	if err != nil || string(decodeAll(t, rec)[0].Body) != "m7" {
		t.Fatalf("Lookup = %v", err)
	}
	if _, err := s.Lookup(nil, m7.CommitLogOffset+1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Lookup inside a record = %v, want ErrNotFound", err)
	}
}

func testOffsetByTime(t *testing.T, open Factory) {
	clk := &Clock{}
	s := open(t, clk.Now)
	for _, ts := range []int64{100, 200, 200, 300} {
		clk.set(ts)
		if err := s.Put([]*message.Message{msg("T", 0, "x", "")}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		ts   int64
		want int64
	}{
		{50, 0},  // before all: first
		{100, 0}, // exact
		{200, 1}, // exact, first of equals
		{240, 2}, // nearer to 200
		{250, 2}, // tie: earlier
		{260, 3}, // nearer to 300
		{999, 3}, // after all: last, not max
	}
	for _, tc := range tests {
		if got := s.OffsetByTime("T", 0, tc.ts); got != tc.want {
			t.Errorf("OffsetByTime(%d) = %d, want %d", tc.ts, got, tc.want)
		}
	}
	if got := s.OffsetByTime("T", 9, 100); got != 0 {
		t.Errorf("OffsetByTime on an empty queue = %d", got)
	}
	if got := s.EarliestTime("T", 0); got != 100 {
		t.Errorf("EarliestTime = %d", got)
	}
	if got := s.EarliestTime("T", 9); got != -1 {
		t.Errorf("EarliestTime of an empty queue = %d", got)
	}
	// Store time never goes backwards.
	clk.set(10)
	m := msg("T", 0, "late", "")
	_ = s.Put([]*message.Message{m})
	if m.StoreTimestamp != 300 {
		t.Errorf("store time went back to %d", m.StoreTimestamp)
	}
}

func testQueryByKeyAndDelete(t *testing.T, open Factory) {
	clk := &Clock{}
	s := open(t, clk.Now)
	for i, props := range []string{"KEYS\x01k1 k2\x02", "KEYS\x01k2\x02UNIQ_KEY\x01U1\x02", "KEYS\x01k2\x02"} {
		clk.set(int64(100 * (i + 1)))
		_ = s.Put([]*message.Message{msg("T", 0, fmt.Sprint(i), props)})
	}
	_ = s.Put([]*message.Message{msg("Other", 0, "o", "KEYS\x01k2\x02")})

	recs, n, _ := s.QueryByKey(nil, "T", "k2", 10, 0, 1<<62)
	if n != 3 || string(decodeAll(t, recs)[0].Body) != "2" {
		t.Fatalf("QueryByKey k2: %d results, newest %q", n, decodeAll(t, recs)[0].Body)
	}
	if _, n, _ := s.QueryByKey(nil, "T", "k2", 2, 0, 1<<62); n != 2 {
		t.Fatalf("maxNum ignored: %d", n)
	}
	if _, n, _ := s.QueryByKey(nil, "T", "k2", 10, 150, 250); n != 1 {
		t.Fatalf("time range ignored: %d", n)
	}
	if _, n, _ := s.QueryByKey(nil, "T", "U1", 10, 0, 1<<62); n != 1 {
		t.Fatalf("UNIQ_KEY not indexed: %d", n)
	}
	if err := s.DeleteTopic("T"); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := s.QueryByKey(nil, "T", "k2", 10, 0, 1<<62); n != 0 || s.MaxOffset("T", 0) != 0 {
		t.Fatalf("topic still there after delete: %d results, max %d", n, s.MaxOffset("T", 0))
	}
	if _, n, _ := s.QueryByKey(nil, "Other", "k2", 10, 0, 1<<62); n != 1 {
		t.Fatalf("delete removed another topic's keys")
	}
}

func testConcurrentPutGet(t *testing.T, open Factory) {
	s := open(t, time.Now)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				_ = s.Put([]*message.Message{msg("T", int32(w%2), fmt.Sprint(i), "")})
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for off := int64(0); off < 1000; {
			res, err := s.Get(&store.GetRequest{Topic: "T", QueueID: 0, Offset: off})
			if err != nil {
				t.Error(err)
				return
			}
			off = max(off, res.NextOffset)
			if res.Status == store.OffsetOverflowOne || res.Status == store.NoMessageInQueue {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	wg.Wait()
	if s.MaxOffset("T", 0) != 1000 || s.MaxOffset("T", 1) != 1000 {
		t.Fatalf("max offsets %d %d", s.MaxOffset("T", 0), s.MaxOffset("T", 1))
	}
}

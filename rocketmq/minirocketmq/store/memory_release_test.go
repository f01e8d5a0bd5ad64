package store

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// retained is the bytes of log slabs m still holds.
func (m *Memory) retained() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, s := range m.segs {
		n += cap(s.buf)
	}
	return n
}

// TestMemoryDeleteTopicReleasesSlabs: the slabs that only a deleted topic's records
// occupied are released; records of other topics, and the slab being written, stay.
func TestMemoryDeleteTopicReleasesSlabs(t *testing.T) {
	const seg = 4 << 10
	m := NewMemory(WithSegmentSize(seg))
	t.Cleanup(func() { _ = m.Close() })
	put := func(topic string, n int) []int64 {
		var offs []int64
		for i := 0; i < n; i++ {
			msg := &message.Message{Topic: topic, Body: []byte(strings.Repeat("x", 500)), Properties: "KEYS\x01k\x02",
				BornHost: netip.MustParseAddrPort("127.0.0.1:1"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911")}
			if err := m.Put([]*message.Message{msg}); err != nil {
				t.Fatal(err)
			}
			offs = append(offs, msg.CommitLogOffset)
		}
		return offs
	}
	keep := put("keep", 2) // shares the first slab with "drop"
	drop := put("drop", 100)
	last := put("keep", 1)
	before := m.retained()
	if before < 10*seg {
		t.Fatalf("retained %d bytes, want the records spread over more than 10 slabs", before)
	}
	if err := m.DeleteTopic("drop"); err != nil {
		t.Fatal(err)
	}
	// The first slab (keep's records) and the last (being written) stay.
	if got := m.retained(); got > 2*seg {
		t.Errorf("retained %d bytes after deleting the topic that filled %d, want at most 2 slabs", got, before)
	}
	for _, off := range append(keep, last...) {
		if _, err := m.Lookup(nil, off); err != nil {
			t.Errorf("record of the kept topic at %d: %v", off, err)
		}
	}
	// Records of the deleted topic in released slabs are gone; those sharing a slab
	// with kept records may still be looked up by offset, as on the real broker until
	// its commit-log file is removed.
	gone := 0
	for _, off := range drop {
		switch _, err := m.Lookup(nil, off); {
		case errors.Is(err, ErrNotFound):
			gone++
		case err != nil:
			t.Fatalf("record of the deleted topic at %d: %v", off, err)
		}
	}
	if perSlab := seg / 500; gone < len(drop)-2*perSlab {
		t.Errorf("%d of %d records of the deleted topic gone, want all but those of two slabs", gone, len(drop))
	}
	if n := m.MaxOffset("keep", 0); n != 3 {
		t.Errorf("kept topic's max offset %d, want 3", n)
	}
	put("drop", 1) // the topic can be used again
	if n := m.MaxOffset("drop", 0); n != 1 {
		t.Errorf("recreated topic's max offset %d, want 1", n)
	}
}

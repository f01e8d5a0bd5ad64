package store

import (
	"net/netip"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// BenchmarkMemoryPut appends 1 KiB messages to one queue.
func BenchmarkMemoryPut(b *testing.B) {
	s := NewMemory()
	defer s.Close()
	body := make([]byte, 1024)
	m := &message.Message{
		Topic: "BenchTopic", Body: body, Properties: "KEYS\x01k\x02UNIQ_KEY\x01AC1100010001000000000000\x02CLUSTER\x01DefaultCluster\x02",
		BornHost: netip.MustParseAddrPort("127.0.0.1:5000"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	msgs := []*message.Message{m}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m.BodyCRC = 0
		if err := s.Put(msgs); err != nil {
			b.Fatal(err)
		}
	}
}

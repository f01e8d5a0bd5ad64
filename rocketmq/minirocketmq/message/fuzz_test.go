package message

import (
	"reflect"
	"testing"
)

// FuzzDecodeBatch: arbitrary batch bodies never panic, and what decodes
// re-encodes to the same bytes (modulo the magic and CRC fields the
// clients zero).
func FuzzDecodeBatch(f *testing.F) {
	var b []byte
	b = AppendBatchEntry(b, 1, []byte("one"), "KEYS\x01k1\x02")
	b = AppendBatchEntry(b, 0, nil, "")
	f.Add(b)
	f.Add([]byte{0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, err := DecodeBatch(body)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again = AppendBatchEntry(again, e.Flag, e.Body, e.Properties)
		}
		if len(again) != len(body) {
			t.Fatalf("re-encoded %d bytes from %d", len(again), len(body))
		}
	})
}

// FuzzDecodeRecord: arbitrary bytes as stored records (a PULL_MESSAGE body)
// never panic; decoded records survive an encode/decode round trip.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(AppendRecord(nil, sample()))
	two := AppendRecord(AppendRecord(nil, sample()), &Message{Topic: "t"})
	f.Add(two)
	f.Fuzz(func(t *testing.T, data []byte) {
		for len(data) > 0 {
			m, n, err := DecodeRecord(data)
			if err != nil {
				_, _ = RecordProperties(data)
				return
			}
			if n <= 0 || n > len(data) {
				t.Fatalf("record length %d of %d", n, len(data))
			}
			again, _, err := DecodeRecord(AppendRecord(nil, m))
			if err != nil {
				t.Fatalf("re-decode of our own encoding: %v", err)
			}
			if m.BodyCRC == 0 { // AppendRecord fills in a missing CRC
				again.BodyCRC = 0
			}
			if m.SysFlag&(FlagBornHostV6|FlagStoreHostV6) == SysFlagFor(m)&(FlagBornHostV6|FlagStoreHostV6) && !reflect.DeepEqual(again, m) {
				t.Fatalf("decode(encode(m)) != m:\n%+v\n%+v", again, m)
			}
			data = data[n:]
		}
	})
}

package message

import (
	"net/netip"
	"reflect"
	"testing"
)

func sample() *Message {
	return &Message{
		Topic:                     "TopicTest",
		QueueID:                   3,
		Flag:                      7,
		SysFlag:                   FlagCompressed,
		BornTimestamp:             1700000000123,
		BornHost:                  netip.MustParseAddrPort("10.1.2.3:40000"),
		StoreHost:                 netip.MustParseAddrPort("127.0.0.1:10911"),
		ReconsumeTimes:            2,
		PreparedTransactionOffset: 99,
		Body:                      []byte("hello"),
		Properties:                "KEYS\x01k1 k2\x02TAGS\x01TagA\x02UNIQ_KEY\x01AB\x02",
		QueueOffset:               42,
		CommitLogOffset:           4096,
		StoreTimestamp:            1700000000456,
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, hosts := range [][2]string{{"10.1.2.3:40000", "127.0.0.1:10911"}, {"[2001:db8::1]:5", "[::1]:10911"}} {
		m := sample()
		m.BornHost, m.StoreHost = netip.MustParseAddrPort(hosts[0]), netip.MustParseAddrPort(hosts[1])
		rec := AppendRecord(nil, m)
		if len(rec) != RecordSize(m) {
			t.Fatalf("record is %d bytes, RecordSize says %d", len(rec), RecordSize(m))
		}
		got, n, err := DecodeRecord(append(rec, 0xFF)) // trailing byte of a next record
		if err != nil || n != len(rec) {
			t.Fatalf("decode: n=%d err=%v", n, err)
		}
		want := *m
		want.SysFlag = SysFlagFor(m)
		want.BodyCRC = BodyCRC(m.Body)
		want.TagsCode = TagsHashCode("TagA")
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("round trip\n%+v\nwant\n%+v", *got, want)
		}
		if ts := RecordStoreTimestamp(rec); ts != m.StoreTimestamp {
			t.Fatalf("RecordStoreTimestamp = %d", ts)
		}
		if props, ok := RecordProperties(rec); !ok || string(props) != m.Properties {
			t.Fatalf("RecordProperties = %q, %v", props, ok)
		}
	}
}

func TestOffsetMsgID(t *testing.T) {
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	id := OffsetMsgID(host, 0x1234)
	if id != "7F00000100002A9F0000000000001234" {
		t.Fatalf("OffsetMsgID = %s", id)
	}
	h, off, err := ParseOffsetMsgID(id)
	if err != nil || h != host || off != 0x1234 {
		t.Fatalf("ParseOffsetMsgID = %v %d %v", h, off, err)
	}
	v6 := netip.MustParseAddrPort("[2001:db8::1]:10911")
	if id := OffsetMsgID(v6, 1); len(id) != 56 {
		t.Fatalf("v6 id %q", id)
	} else if h, off, err := ParseOffsetMsgID(id); err != nil || h != v6 || off != 1 {
		t.Fatalf("ParseOffsetMsgID(v6) = %v %d %v", h, off, err)
	}
	if _, _, err := ParseOffsetMsgID("XYZ"); err == nil {
		t.Fatal("bad id parsed")
	}
}

func TestTagsHashCodeMatchesJava(t *testing.T) {
	// Values of "...".hashCode() in Java.
	for tag, want := range map[string]int64{"": 0, "a": 97, "TagA": 2598919, "hello world": 1794106052, "é": 233, "😀": 1772899} {
		if got := TagsHashCode(tag); got != want {
			t.Errorf("TagsHashCode(%q) = %d, want %d", tag, got, want)
		}
	}
}

func TestProperties(t *testing.T) {
	props := "KEYS\x01a b\x02TAGS\x01x\x02WAIT\x01true\x02bad\x02"
	if v, ok := Property(props, "TAGS"); !ok || v != "x" {
		t.Fatalf("Property TAGS = %q %v", v, ok)
	}
	if _, ok := Property(props, "bad"); ok {
		t.Fatal("entry without separator matched")
	}
	if v, ok := PropertyBytes([]byte(props), "WAIT"); !ok || string(v) != "true" {
		t.Fatalf("PropertyBytes = %q %v", v, ok)
	}
	got := EditProperties(props, []string{"WAIT"}, "CLUSTER", "c", "TAGS", "y")
	if want := "KEYS\x01a b\x02bad\x02CLUSTER\x01c\x02TAGS\x01y\x02"; got != want {
		t.Fatalf("EditProperties = %q, want %q", got, want)
	}
	if k := Keys(props); !reflect.DeepEqual(k, []string{"a", "b"}) {
		t.Fatalf("Keys = %v", k)
	}
	if m := ParseProperties(props); len(m) != 3 || m["KEYS"] != "a b" {
		t.Fatalf("ParseProperties = %v", m)
	}
}

func TestBatch(t *testing.T) {
	var body []byte
	body = AppendBatchEntry(body, 1, []byte("one"), "KEYS\x01k1\x02")
	body = AppendBatchEntry(body, 2, nil, "")
	body = AppendBatchEntry(body, 3, []byte("three"), "TAGS\x01t\x02")
	got, err := DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []BatchEntry{{1, []byte("one"), "KEYS\x01k1\x02"}, {2, nil, ""}, {3, []byte("three"), "TAGS\x01t\x02"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeBatch = %+v", got)
	}
	whole := map[int]bool{33: true, 33 + 22: true}
	for cut := 1; cut < len(body); cut++ {
		if _, err := DecodeBatch(body[:cut]); (err == nil) != whole[cut] {
			t.Fatalf("prefix of %d bytes: err=%v", cut, err)
		}
	}
}

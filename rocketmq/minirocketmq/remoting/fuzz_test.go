package remoting

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader and decoder: they
// must never panic, never allocate past the limit, and whatever decodes must
// encode and decode again to the same command.
func FuzzReadFrame(f *testing.F) {
	for _, h := range []string{goClientHeader, javaResponseHeader, `{}`, `{"code":11,"extFields":{"a":"\u00e9"}}`} {
		var fr []byte
		fr = binary.BigEndian.AppendUint32(fr, uint32(4+len(h)+3))
		fr = binary.BigEndian.AppendUint32(fr, uint32(len(h)))
		fr = append(fr, h...)
		fr = append(fr, "abc"...)
		f.Add(fr)
	}
	bin, _ := AppendBinaryFrame(nil, &Command{Code: 34, Remark: "r", Ext: []Field{{"k", "v"}}, Body: []byte("b")})
	f.Add(bin)
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			payload, err := ReadFrame(r, 1<<16)
			if err != nil {
				return
			}
			if len(payload) > 1<<16 {
				t.Fatalf("payload of %d bytes past the limit", len(payload))
			}
			cmd, err := Decode(payload)
			if err != nil {
				continue
			}
			frame, err := AppendFrame(nil, cmd)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", cmd, err)
			}
			p2, err := ReadFrame(bytes.NewReader(frame), 0)
			if err != nil {
				t.Fatalf("re-read: %v", err)
			}
			again, err := Decode(p2)
			if err != nil {
				t.Fatalf("re-decode %q: %v", frame, err)
			}
			// The encoder fills in a language and replaces invalid UTF-8.
			again.Language, cmd.Language = "", ""
			again.SerializeType, cmd.SerializeType = 0, 0
			if !validUTF8(cmd) {
				continue
			}
			if !reflect.DeepEqual(again, cmd) {
				t.Fatalf("round trip changed the command:\n%+v\n%+v", cmd, again)
			}
		}
	})
}

// FuzzDecodeJSONHeader targets the hand-written JSON parser directly.
func FuzzDecodeJSONHeader(f *testing.F) {
	for _, s := range []string{goClientHeader, javaResponseHeader, `{"remark":"\ud83d\ude00\u0000"}`, `{"extFields":{"":""}}`, `[`, `{"a":{"b":[1,2,{"c":null}]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var cmd Command
		if err := decodeJSONHeader(s, &cmd); err != nil {
			return
		}
		var again Command
		if err := decodeJSONHeader(string(appendJSONHeader(nil, &cmd)), &again); err != nil {
			t.Fatalf("re-decode of our own encoding failed: %v", err)
		}
	})
}

// FuzzDecodeBinaryHeader targets the ROCKETMQ header decoder.
func FuzzDecodeBinaryHeader(f *testing.F) {
	f.Add(appendBinaryHeader(nil, &Command{Code: 10, Language: "JAVA", Remark: "x", Ext: []Field{{"topic", "T"}, {"queueId", "1"}}}))
	f.Add(make([]byte, binaryFixedLen))
	f.Fuzz(func(t *testing.T, h []byte) {
		var cmd Command
		if err := decodeBinaryHeader(h, &cmd); err != nil {
			return
		}
		var again Command
		if err := decodeBinaryHeader(appendBinaryHeader(nil, &cmd), &again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(cmd.Ext, again.Ext) && !(len(cmd.Ext) == 0 && len(again.Ext) == 0) {
			t.Fatalf("ext changed: %v -> %v", cmd.Ext, again.Ext)
		}
	})
}

func validUTF8(c *Command) bool {
	ok := func(s string) bool { return s == string([]rune(s)) }
	if !ok(c.Remark) {
		return false
	}
	for _, f := range c.Ext {
		if !ok(f.Key) || !ok(f.Value) {
			return false
		}
	}
	return true
}

package remoting

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// goClientHeader is a header exactly as rocketmq-client-go writes it
// (jsoniter, struct field order, "language":"GO").
const goClientHeader = `{"code":105,"language":"GO","version":317,"opaque":7,"flag":0,"remark":"","extFields":{"topic":"T"}}`

// javaResponseHeader is a header as a 4.9 Java broker writes it (fastjson,
// alphabetical keys).
const javaResponseHeader = `{"code":0,"extFields":{"queueId":"1","MSG_REGION":"DefaultRegion","TRACE_ON":"true","msgId":"7F00000100002A9F0000000000000000","queueOffset":"0"},"flag":1,"language":"JAVA","opaque":3,"serializeTypeCurrentRPC":"JSON","version":401}`

func frameOf(t *testing.T, header string, body []byte) []byte {
	t.Helper()
	var f []byte
	f = binary.BigEndian.AppendUint32(f, uint32(4+len(header)+len(body)))
	f = binary.BigEndian.AppendUint32(f, uint32(len(header)))
	f = append(f, header...)
	return append(f, body...)
}

func TestDecodeRealHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   []byte
		want   Command
	}{
		{
			name:   "go client request",
			header: goClientHeader,
			want:   Command{Code: 105, Language: "GO", Version: 317, Opaque: 7, Ext: []Field{{"topic", "T"}}},
		},
		{
			name:   "java broker response",
			header: javaResponseHeader,
			body:   []byte("payload"),
			want: Command{Code: 0, Language: "JAVA", Version: 401, Opaque: 3, Flag: 1, Body: []byte("payload"), Ext: []Field{
				{"queueId", "1"}, {"MSG_REGION", "DefaultRegion"}, {"TRACE_ON", "true"},
				{"msgId", "7F00000100002A9F0000000000000000"}, {"queueOffset", "0"},
			}},
		},
		{
			name:   "null remark and extFields, unknown keys, whitespace",
			header: " {\"code\" : 34 ,\"remark\":null,\"extFields\":null,\"x\":[1,{\"y\":[true,false,null]}],\"language\":9, \"opaque\":-5}\n",
			want:   Command{Code: 34, Language: "GO", Opaque: -5},
		},
		{
			name:   "escapes and non-string ext values",
			header: `{"code":1,"remark":"a\"b\\c\n\u00e9\ud83d\ude00","extFields":{"k\/":"v\t","n":12,"b":true,"z":null}}`,
			want:   Command{Code: 1, Remark: "a\"b\\c\né😀", Ext: []Field{{"k/", "v\t"}, {"n", "12"}, {"b", "true"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := ReadFrame(bytes.NewReader(frameOf(t, tc.header, tc.body)), 0)
			if err != nil {
				t.Fatalf("read frame: %v", err)
			}
			got, err := Decode(payload)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", *got, tc.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"too short", []byte{0, 0}},
		{"header longer than frame", binary.BigEndian.AppendUint32(nil, 10)},
		{"unknown serialize type", append(binary.BigEndian.AppendUint32(nil, 2<<24|2), "{}"...)},
		{"not json", append(binary.BigEndian.AppendUint32(nil, 3), "abc"...)},
		{"truncated json", append(binary.BigEndian.AppendUint32(nil, 9), `{"code":1`...)},
		{"code out of range", append(binary.BigEndian.AppendUint32(nil, 14), `{"code":99999}`...)},
		{"ext not an object", append(binary.BigEndian.AppendUint32(nil, 17), `{"extFields":[1]}`...)},
		{"trailing garbage", append(binary.BigEndian.AppendUint32(nil, 3), `{}x`...)},
		{"deep nesting", jsonPayload(`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`)},
		{"binary header truncated", append(binary.BigEndian.AppendUint32(nil, 1<<24|5), 0, 1, 2, 3, 4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.payload); !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("Decode = %v, want ErrMalformedFrame", err)
			}
		})
	}
}

func jsonPayload(h string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(h))), h...)
}

func TestReadFrameLimitBeforeAllocation(t *testing.T) {
	// Declares 1 GiB but carries 4 bytes: must fail on the length alone.
	r := bytes.NewReader(binary.BigEndian.AppendUint32(nil, 1<<30))
	if _, err := ReadFrame(r, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ReadFrame = %v, want ErrFrameTooLarge", err)
	}
	if _, err := ReadFrame(bytes.NewReader(binary.BigEndian.AppendUint32(nil, 2)), 0); !errors.Is(err, ErrMalformedFrame) {
		t.Fatalf("ReadFrame of a 2-byte frame = %v, want ErrMalformedFrame", err)
	}
	short := append(binary.BigEndian.AppendUint32(nil, 100), 1, 2, 3)
	if _, err := ReadFrame(bytes.NewReader(short), 0); err == nil {
		t.Fatal("ReadFrame of a truncated frame succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	cmds := []*Command{
		{Code: 10, Language: "JAVA", Version: 401, Opaque: 1, Ext: []Field{{"topic", "T"}, {"properties", "KEYS\x01k\x02TAGS\x01a\x02"}}, Body: []byte("hello")},
		{Code: 0, Language: "JAVA", Version: 401, Opaque: -9, Flag: FlagResponse, Remark: "bad \"topic\"\n\x00\x1f é \xff"},
		{Code: 3, Language: "JAVA", Version: 401},
	}
	for _, cmd := range cmds {
		for _, enc := range []func([]byte, *Command) ([]byte, error){AppendFrame, AppendBinaryFrame} {
			frame, err := enc(nil, cmd)
			if err != nil {
				t.Fatal(err)
			}
			payload, err := ReadFrame(bytes.NewReader(frame), 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(payload)
			if err != nil {
				t.Fatalf("decode %q: %v", frame, err)
			}
			want := *cmd
			if got.SerializeType == SerializeJSON {
				want.Remark = strings.ToValidUTF8(want.Remark, "\uFFFD")
			}
			want.SerializeType = got.SerializeType
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("round trip\n%+v\nwant\n%+v", *got, want)
			}
		}
	}
}

// TestJSONHeaderIsStandard: what we write must parse with encoding/json
// (the Go client uses jsoniter, Java fastjson) with string ext values.
func TestJSONHeaderIsStandard(t *testing.T) {
	cmd := &Command{Code: 0, Opaque: 5, Flag: 1, Remark: "x\"\\\x01é", Ext: []Field{{"a", "1"}, {"b\n", "\u2028"}}}
	h := appendJSONHeader(nil, cmd)
	var v struct {
		Code      int               `json:"code"`
		Opaque    int               `json:"opaque"`
		Flag      int               `json:"flag"`
		Remark    string            `json:"remark"`
		Language  string            `json:"language"`
		ExtFields map[string]string `json:"extFields"`
	}
	if err := json.Unmarshal(h, &v); err != nil {
		t.Fatalf("encoding/json rejects %s: %v", h, err)
	}
	if v.Remark != cmd.Remark || v.ExtFields["b\n"] != "\u2028" || v.Flag != 1 || v.Opaque != 5 || v.Language != "JAVA" {
		t.Fatalf("decoded %+v from %s", v, h)
	}
}

// sizeRecorder serves data and remembers the largest buffer a Read was
// given: what the reader allocated for the frame.
type sizeRecorder struct {
	r       io.Reader
	largest int
}

func (s *sizeRecorder) Read(p []byte) (int, error) {
	s.largest = max(s.largest, len(p))
	return s.r.Read(p)
}

// TestReadFrameGrowsWithData: the buffer of a frame grows with the bytes
// that arrive, not with the length the peer announces: a frame that
// announces 16 MiB and carries 100 bytes costs 64 KiB; a frame that does
// carry 1 MiB is read whole.
func TestReadFrameGrowsWithData(t *testing.T) {
	liar := &sizeRecorder{r: bytes.NewReader(append(binary.BigEndian.AppendUint32(nil, DefaultMaxFrameSize), make([]byte, 100)...))}
	if _, err := ReadFrame(liar, 0); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFrame of a short frame = %v", err)
	}
	if liar.largest > initialFrameBuffer {
		t.Fatalf("a frame that sent 100 bytes got a %d-byte buffer", liar.largest)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	frame, err := AppendFrame(nil, &Command{Code: 10, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := ReadFrame(&sizeRecorder{r: bytes.NewReader(frame)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := Decode(payload)
	if err != nil || !bytes.Equal(cmd.Body, body) {
		t.Fatalf("1 MiB frame: %v, body intact %t", err, err == nil && bytes.Equal(cmd.Body, body))
	}
}

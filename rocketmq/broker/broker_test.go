package broker

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-kratos/kratos/v2/encoding"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type payload struct {
	A int    `json:"a"`
	B string `json:"b"`
}

func TestMarshalUnmarshal(t *testing.T) {
	json := encoding.GetCodec("json")
	for _, tc := range []struct {
		name    string
		codec   encoding.Codec
		in      Any
		out     func() Any
		want    Any
		wantErr bool
	}{
		{"json struct", json, &payload{1, "x"}, func() Any { return new(payload) }, &payload{1, "x"}, false},
		{"raw bytes bypass codec", json, []byte("raw"), func() Any { return new([]byte) }, []byte("raw"), false},
		{"string bypasses codec", nil, "s", func() Any { return new(string) }, "s", false},
		{"struct without codec", nil, &payload{}, nil, nil, true},
		{"nil message", json, nil, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.codec, tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Marshal(%v) succeeded", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := tc.out()
			if err := Unmarshal(tc.codec, b, out); err != nil {
				t.Fatal(err)
			}
			switch w := tc.want.(type) {
			case *payload:
				if *out.(*payload) != *w {
					t.Errorf("got %+v, want %+v", out, w)
				}
			case []byte:
				if string(*out.(*[]byte)) != string(w) {
					t.Errorf("got %q", *out.(*[]byte))
				}
			case string:
				if *out.(*string) != w {
					t.Errorf("got %q", *out.(*string))
				}
			}
		})
	}
	if err := Unmarshal(json, []byte("{"), new(payload)); err == nil {
		t.Error("Unmarshal of broken JSON succeeded")
	}
}

func TestOptions(t *testing.T) {
	o := NewOptions()
	if o.CodecName != "json" || o.Codec == nil || o.Validate() != nil {
		t.Errorf("defaults: %+v", o)
	}
	o = NewOptions(WithCodec("proto"))
	if o.Codec == nil || o.Codec.Name() != "proto" {
		t.Errorf("proto codec: %+v", o.Codec)
	}
	o = NewOptions(WithCodec("nope"))
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown codec: %v", err)
	}
	s := NewSubscribeOptions(WithQueueName("g"), DisableAutoAck(), WithSubscribeContext(nil))
	if s.Queue != "g" || s.AutoAck || s.Context == nil {
		t.Errorf("subscribe options: %+v", s)
	}
	p := NewPublishOptions(WithHeaders(Headers{"a": "1"}), WithHeaders(Headers{"b": "2"}))
	if p.Headers["a"] != "1" || p.Headers["b"] != "2" {
		t.Errorf("headers: %v", p.Headers)
	}
	r := NewRequestOptions()
	if r.Timeout <= 0 {
		t.Errorf("request timeout: %v", r.Timeout)
	}
}

type fakeEvent struct{ m Message }

func (e *fakeEvent) Topic() string     { return "t" }
func (e *fakeEvent) Message() *Message { return &e.m }
func (e *fakeEvent) RawMessage() any   { return nil }
func (e *fakeEvent) Ack() error        { return nil }
func (e *fakeEvent) Error() error      { return nil }

func TestTypedHandlerAndChain(t *testing.T) {
	var got *payload
	h := TypedHandler(func(_ context.Context, topic string, h Headers, p *payload) error {
		got = p
		return nil
	})
	var order []string
	mw := func(name string) MiddlewareFunc {
		return func(next Handler) Handler {
			return func(ctx context.Context, e Event) error {
				order = append(order, name)
				return next(ctx, e)
			}
		}
	}
	h = Chain(h, mw("outer"), nil, mw("inner"))
	if err := h(context.Background(), &fakeEvent{Message{Body: &payload{A: 3}}}); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.A != 3 || strings.Join(order, ",") != "outer,inner" {
		t.Errorf("got %+v, order %v", got, order)
	}
	if err := h(context.Background(), &fakeEvent{Message{Body: "wrong"}}); err == nil {
		t.Error("wrong body type accepted")
	}
	if b := NewBinder[payload]()(); b.(*payload) == nil {
		t.Error("binder returned nil")
	}
}

type replyFunc func(ctx context.Context, msg Any, opts ...PublishOption) error

func (f replyFunc) Reply(ctx context.Context, msg Any, opts ...PublishOption) error {
	return f(ctx, msg, opts...)
}

func TestReply(t *testing.T) {
	if err := Reply(context.Background(), "x"); !errors.Is(err, ErrNotRequest) {
		t.Errorf("Reply without replier = %v", err)
	}
	var sent Any
	ctx := NewReplierContext(context.Background(), replyFunc(func(_ context.Context, msg Any, _ ...PublishOption) error {
		sent = msg
		return nil
	}))
	if err := Reply(ctx, "answer"); err != nil || sent != "answer" {
		t.Errorf("Reply = %v, sent %v", err, sent)
	}
	if TransactionCommit.String() != "commit" || TransactionUnknown.String() != "unknown" {
		t.Error("TransactionState names")
	}
}

// flexible implements json.Unmarshaler and accepts any body, valid JSON or not.
type flexible struct{ raw string }

func (f *flexible) UnmarshalJSON(b []byte) error {
	f.raw = string(b)
	return nil
}

// countingCodec is a codec other than Kratos' JSON one, registered under no name.
type countingCodec struct{ calls int }

func (c *countingCodec) Marshal(v any) ([]byte, error) { return nil, errors.New("unused") }
func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.calls++
	return encoding.GetCodec("json").Unmarshal(data, v)
}
func (c *countingCodec) Name() string { return "json" } // same name, another codec

func TestNewDecoder(t *testing.T) {
	json := encoding.GetCodec("json")
	for _, tc := range []struct {
		name    string
		codec   encoding.Codec
		binder  Binder
		body    string
		want    any
		wantErr string
	}{
		{"plain struct", json, NewBinder[payload](), `{"a":1,"b":"x"}`, &payload{1, "x"}, ""},
		{"broken JSON", json, NewBinder[payload](), `{"a":`, nil, "unmarshal into *broker.payload with json: unexpected end of JSON input"},
		{"no binder: raw body", json, nil, `raw`, []byte("raw"), ""},
		{"raw bytes binder", json, NewBinder[[]byte](), `raw`, []byte("raw"), ""},
		{"protobuf message: protojson", json, NewBinder[wrapperspb.StringValue](), `"hi"`, wrapperspb.String("hi"), ""},
		{"json.Unmarshaler: called without validation", json, NewBinder[flexible](), `not json`, &flexible{"not json"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewDecoder(tc.codec, tc.binder)([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				// the same error Unmarshal gives
				if uerr := Unmarshal(tc.codec, []byte(tc.body), tc.binder()); uerr == nil || uerr.Error() != err.Error() {
					t.Errorf("Unmarshal says %v, the decoder %v", uerr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch w := tc.want.(type) {
			case proto.Message:
				if !proto.Equal(got.(proto.Message), w) {
					t.Errorf("got %v, want %v", got, w)
				}
			case []byte:
				var b []byte
				switch g := got.(type) {
				case []byte:
					b = g
				case *[]byte:
					b = *g
				}
				if string(b) != string(w) {
					t.Errorf("got %q, want %q", b, w)
				}
			default:
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %#v, want %#v", got, tc.want)
				}
			}
		})
	}
	t.Run("another codec named json is used", func(t *testing.T) {
		c := &countingCodec{}
		if _, err := NewDecoder(c, NewBinder[payload]())([]byte(`{"a":1}`)); err != nil || c.calls != 1 {
			t.Errorf("err %v, codec called %d times", err, c.calls)
		}
	})
}

package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/go-kratos/kratos/v2/encoding"
	"google.golang.org/protobuf/proto"
)

// ErrNoCodec is returned when a value needs a codec but the broker has none.
var ErrNoCodec = errors.New("broker: no codec configured")

// Marshal encodes msg with codec; []byte and string are returned as they are.
func Marshal(codec encoding.Codec, msg Any) ([]byte, error) {
	switch v := msg.(type) {
	case nil:
		return nil, errors.New("broker: message is nil")
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	if codec == nil {
		return nil, fmt.Errorf("marshal %T: %w", msg, ErrNoCodec)
	}
	b, err := codec.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal %T with %s: %w", msg, codec.Name(), err)
	}
	return b, nil
}

// Unmarshal decodes data into out with codec; *[]byte and *string receive the raw body.
func Unmarshal(codec encoding.Codec, data []byte, out Any) error {
	switch v := out.(type) {
	case *[]byte:
		*v = data
		return nil
	case *string:
		*v = string(data)
		return nil
	}
	if codec == nil {
		return fmt.Errorf("unmarshal into %T: %w", out, ErrNoCodec)
	}
	if err := codec.Unmarshal(data, out); err != nil {
		return fmt.Errorf("unmarshal into %T with %s: %w", out, codec.Name(), err)
	}
	return nil
}

// Decoder decodes one message body into a fresh value from a Binder (or returns the raw
// body when there is no binder); build one per subscription with NewDecoder.
type Decoder func(data []byte) (Any, error)

// NewDecoder returns the Decoder of binder's values with codec: binder() followed by
// Unmarshal. For Kratos' JSON codec and a binder of pointers to plain Go values (not
// protobuf messages, not json.Unmarshalers), where that codec ends in json.Unmarshal
// after a reflective walk of the value, it calls json.Unmarshal itself. The result is
// the same; the point is the stack: rocketmq-client-go runs every delivery on a new
// goroutine, which starts with a small stack, and the codec's frames were enough to
// make the stack grow (and be copied) once more per message than it does for a client
// callback that calls json.Unmarshal (measured 1-2 µs a message, cmd/rmqbench).
func NewDecoder(codec encoding.Codec, binder Binder) Decoder {
	if binder == nil {
		return func(data []byte) (Any, error) { return data, nil }
	}
	t := reflect.TypeOf(binder())
	if !isKratosJSON(codec) || !plainJSONTarget(t) {
		return func(data []byte) (Any, error) { return unmarshalNew(codec, data, binder()) }
	}
	return func(data []byte) (Any, error) {
		v := binder()
		if reflect.TypeOf(v) != t { // a binder of changing types: no shortcut
			return unmarshalNew(codec, data, v)
		}
		if err := json.Unmarshal(data, v); err != nil {
			return nil, jsonError(v, err)
		}
		return v, nil
	}
}

// unmarshalNew is Unmarshal returning the value.
func unmarshalNew(codec encoding.Codec, data []byte, v Any) (Any, error) {
	if err := Unmarshal(codec, data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// jsonError is the error Unmarshal returns for Kratos' JSON codec.
func jsonError(v Any, err error) error {
	return fmt.Errorf("unmarshal into %T with json: %w", v, err)
}

// kratosJSONPkg is the package of Kratos' JSON codec (the "json" codec unless an
// application registers another one under that name).
const kratosJSONPkg = "github.com/go-kratos/kratos/v2/encoding/json"

func isKratosJSON(c encoding.Codec) bool {
	return c != nil && reflect.TypeOf(c).PkgPath() == kratosJSONPkg
}

// plainJSONTarget reports whether Kratos' JSON codec decodes into values of type t
// with exactly json.Unmarshal(data, v): t is a pointer to a non-pointer type, neither
// of which is a protobuf message, and t is no json.Unmarshaler (the codec calls that
// itself, without json's validation) and no raw-body type of Unmarshal.
func plainJSONTarget(t reflect.Type) bool {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() == reflect.Pointer ||
		t == reflect.TypeFor[*[]byte]() || t == reflect.TypeFor[*string]() {
		return false
	}
	protoMsg := reflect.TypeFor[proto.Message]()
	return !t.Implements(protoMsg) && !t.Elem().Implements(protoMsg) && !t.Implements(reflect.TypeFor[json.Unmarshaler]())
}

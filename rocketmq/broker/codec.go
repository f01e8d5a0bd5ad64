package broker

import (
	"errors"
	"fmt"

	"github.com/go-kratos/kratos/v2/encoding"
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
// Unmarshal, or the raw body when binder is nil.
func NewDecoder(codec encoding.Codec, binder Binder) Decoder {
	if binder == nil {
		return func(data []byte) (Any, error) { return data, nil }
	}
	return func(data []byte) (Any, error) {
		v := binder()
		if err := Unmarshal(codec, data, v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

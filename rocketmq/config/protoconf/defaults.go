package protoconf

import (
	"context"
	"fmt"

	"github.com/go-kratos/kratos/v2/config"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// DefaultsSource holds a configuration's defaults: the fields set in a message of its
// schema. Give it to Load first: a key that no later source sets takes its default,
// and a key a source sets wins, whatever its value (false, 0, "" and [] included: the
// sources are merged by key, not by value). That is how "a key left out of the file
// means its documented default" holds for every key, booleans and lists included.
type DefaultsSource struct {
	defaults proto.Message
}

// NewDefaultsSource returns the source of defaults (a message of the configuration's
// root type with the default values set).
func NewDefaultsSource(defaults proto.Message) *DefaultsSource {
	return &DefaultsSource{defaults: defaults}
}

// Load returns the defaults as one JSON document with the schema's key names.
func (s *DefaultsSource) Load() ([]*config.KeyValue, error) {
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(s.defaults)
	if err != nil {
		return nil, fmt.Errorf("encode the configuration defaults: %w", err)
	}
	return []*config.KeyValue{{Key: "defaults", Format: "json", Value: data}}, nil
}

// Watch returns a watcher that never reports a change: defaults are compiled in.
func (s *DefaultsSource) Watch() (config.Watcher, error) {
	ctx, cancel := context.WithCancel(context.Background())
	return &idleWatcher{ctx: ctx, cancel: cancel}, nil
}

package protoconf

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/go-kratos/kratos/v2/config"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// EnvSource turns prefixed environment variables into configuration keys by walking a
// schema (a protobuf message descriptor): with prefix APP_, APP_SERVER_HTTP_ADDR sets
// server.http.addr, and field names that contain underscores are matched whole
// (APP_DATA_ROCKETMQ_NAME_SERVERS sets data.rocketmq.name_servers). Values are typed from
// the schema: repeated fields split on commas, booleans and numbers are parsed, map
// entries take the rest of the name as key (APP_APP_METADATA_REGION sets
// app.metadata.region). Variables that match no key are reported by Unmatched and
// otherwise ignored. Load it after the file source so it wins.
type EnvSource struct {
	prefix  string
	schema  protoreflect.MessageDescriptor
	environ func() []string
}

// EnvOption configures NewEnvSource.
type EnvOption func(*EnvSource)

// Environ makes the source read vars ("NAME=value") instead of the process environment
// (for tests).
func Environ(vars ...string) EnvOption {
	return func(s *EnvSource) { s.environ = func() []string { return vars } }
}

// NewEnvSource returns the environment overrides of the keys of schema (the descriptor
// of the configuration's root message) under prefix, e.g. "APP_".
func NewEnvSource(prefix string, schema protoreflect.MessageDescriptor, opts ...EnvOption) *EnvSource {
	s := &EnvSource{prefix: prefix, schema: schema, environ: os.Environ}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Load returns the overrides as one JSON document.
func (s *EnvSource) Load() ([]*config.KeyValue, error) {
	doc, _ := s.document()
	if len(doc) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return []*config.KeyValue{{Key: "env:" + s.prefix + "*", Format: "json", Value: data}}, nil
}

// Unmatched lists the prefixed variables that name no configuration key.
func (s *EnvSource) Unmatched() []string {
	_, unmatched := s.document()
	return unmatched
}

func (s *EnvSource) document() (map[string]any, []string) {
	doc := map[string]any{}
	var unmatched []string
	root := s.schema
	env := s.environ()
	sort.Strings(env)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, s.prefix) || len(name) == len(s.prefix) {
			continue
		}
		tokens := strings.Split(strings.ToLower(name[len(s.prefix):]), "_")
		if !setPath(doc, root, tokens, value) {
			unmatched = append(unmatched, name)
		}
	}
	return doc, unmatched
}

// setPath matches tokens against the fields of md, longest field name first, and stores
// the typed value in doc. It reports whether a key matched.
func setPath(doc map[string]any, md protoreflect.MessageDescriptor, tokens []string, value string) bool {
	for n := len(tokens); n >= 1; n-- {
		fd := md.Fields().ByName(protoreflect.Name(strings.Join(tokens[:n], "_")))
		if fd == nil {
			continue
		}
		rest := tokens[n:]
		key := string(fd.Name())
		switch {
		case fd.IsMap():
			if len(rest) == 0 || fd.MapValue().Kind() == protoreflect.MessageKind {
				continue
			}
			m, _ := doc[key].(map[string]any)
			if m == nil {
				m = map[string]any{}
				doc[key] = m
			}
			m[strings.Join(rest, "_")] = scalar(fd.MapValue(), value)
			return true
		case fd.Kind() == protoreflect.MessageKind && !isWellKnown(fd.Message()):
			if len(rest) == 0 || fd.IsList() {
				continue
			}
			sub, _ := doc[key].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			if setPath(sub, fd.Message(), rest, value) {
				doc[key] = sub
				return true
			}
		case len(rest) == 0:
			if fd.IsList() {
				var list []any
				for _, item := range strings.Split(value, ",") {
					if item = strings.TrimSpace(item); item != "" {
						list = append(list, scalar(fd, item))
					}
				}
				doc[key] = list
			} else {
				doc[key] = scalar(fd, value)
			}
			return true
		}
	}
	return false
}

// scalar types an environment value for protojson: booleans and numbers become JSON
// booleans and numbers when they parse (protojson reports the key otherwise); everything
// else, durations and enums included, stays a string.
func scalar(fd protoreflect.FieldDescriptor, v string) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind,
		protoreflect.FloatKind, protoreflect.DoubleKind:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
	}
	return v
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return strings.HasPrefix(string(md.FullName()), "google.protobuf.")
}

// Watch returns a watcher that never reports a change: the environment of a running
// process does not change.
func (s *EnvSource) Watch() (config.Watcher, error) {
	ctx, cancel := context.WithCancel(context.Background())
	return &idleWatcher{ctx: ctx, cancel: cancel}, nil
}

type idleWatcher struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (w *idleWatcher) Next() ([]*config.KeyValue, error) {
	<-w.ctx.Done()
	return nil, w.ctx.Err()
}

func (w *idleWatcher) Stop() error {
	w.cancel()
	return nil
}

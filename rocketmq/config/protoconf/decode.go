package protoconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decode scans the current values of c into msg, after checking every key against msg's
// schema: durations in Go syntax (1m30s, 500ms) are accepted besides protobuf's 90s, YAML's
// unquoted numbers and booleans fit string keys, and a value that does not fit its key
// is an error naming the key ("config key server.http.timeout: invalid duration ..."), all
// of them joined. warnings lists the keys the schema does not know (typos, mostly), which
// are otherwise ignored. msg is reset first.
func Decode(c config.Config, msg proto.Message) (warnings []string, err error) {
	var raw map[string]any
	if err := c.Scan(&raw); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	w := &walker{}
	w.message(raw, msg.ProtoReflect().Descriptor(), "")
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	proto.Reset(msg)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, msg); err != nil {
		return nil, fmt.Errorf("decode configuration: %w", err)
	}
	return w.warnings, nil
}

// walker checks a decoded document against a message descriptor, rewriting values in place
// where the JSON form protojson wants differs from what people write in YAML.
type walker struct {
	errs     []error
	warnings []string
}

func (w *walker) fail(key, format string, args ...any) {
	w.errs = append(w.errs, fmt.Errorf("config key %s: %s", key, fmt.Sprintf(format, args...)))
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (w *walker) message(m map[string]any, md protoreflect.MessageDescriptor, prefix string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		key := join(prefix, k)
		if fd == nil {
			if prefix == "" && strings.ToUpper(k) == k {
				continue // a bare environment value (Kratos env source), not a key
			}
			w.warnings = append(w.warnings, "unknown key "+key)
			continue
		}
		v := m[k]
		if v == nil {
			continue
		}
		switch {
		case fd.IsMap():
			mm, ok := v.(map[string]any)
			if !ok {
				w.fail(key, "want a mapping, got %s", describe(v))
				continue
			}
			for mk, mv := range mm {
				mm[mk] = w.value(mv, fd.MapValue(), key+"."+mk)
			}
		case fd.IsList():
			list, ok := v.([]any)
			if !ok {
				w.fail(key, "want a list, got %s", describe(v))
				continue
			}
			for i := range list {
				list[i] = w.value(list[i], fd, fmt.Sprintf("%s[%d]", key, i))
			}
		default:
			m[k] = w.value(v, fd, key)
		}
	}
}

// value checks one scalar or message value and returns it in the form protojson accepts.
func (w *walker) value(v any, fd protoreflect.FieldDescriptor, key string) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		if md.FullName() == "google.protobuf.Duration" {
			return w.duration(v, key)
		}
		sub, ok := v.(map[string]any)
		if !ok {
			w.fail(key, "want a mapping, got %s", describe(v))
			return v
		}
		w.message(sub, md, key)
		return sub
	case protoreflect.EnumKind:
		return w.enum(v, fd.Enum(), key)
	case protoreflect.BoolKind:
		switch b := v.(type) {
		case bool:
			return b
		case string:
			if p, err := strconv.ParseBool(b); err == nil {
				return p
			}
		}
		w.fail(key, "want true or false, got %s", describe(v))
	case protoreflect.StringKind, protoreflect.BytesKind:
		switch s := v.(type) {
		case string:
			return s
		case float64, bool:
			return fmt.Sprint(s) // YAML turned an unquoted value into a number or boolean
		}
		w.fail(key, "want a string, got %s", describe(v))
	default: // numbers
		f, ok := v.(float64)
		if s, isStr := v.(string); isStr {
			p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			f, ok = p, err == nil
		}
		if !ok {
			w.fail(key, "want a number, got %s", describe(v))
			return v
		}
		if isInt(fd.Kind()) && (f != math.Trunc(f) || f > math.MaxInt64 || f < math.MinInt64) {
			w.fail(key, "want an integer, got %v", f)
			return v
		}
		if isInt32(fd.Kind()) && (f > math.MaxInt32 || f < math.MinInt32) {
			w.fail(key, "%v is out of range for a 32-bit integer", f)
			return v
		}
		return f
	}
	return v
}

func (w *walker) duration(v any, key string) any {
	var d time.Duration
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		p, err := time.ParseDuration(s)
		if err != nil {
			w.fail(key, "invalid duration %q (write it like 500ms, 3s, 1m30s)", t)
			return v
		}
		d = p
	case float64:
		if t != 0 {
			w.fail(key, "invalid duration %v: add a unit (e.g. %vs)", t, t)
			return v
		}
	default:
		w.fail(key, "want a duration like 3s, got %s", describe(v))
		return v
	}
	if d < 0 {
		w.fail(key, "negative duration %s is not allowed", d)
		return v
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

func (w *walker) enum(v any, ed protoreflect.EnumDescriptor, key string) any {
	var valid []string
	for i := 0; i < ed.Values().Len(); i++ {
		if ev := ed.Values().Get(i); ev.Number() != 0 {
			valid = append(valid, string(ev.Name()))
		}
	}
	switch t := v.(type) {
	case string:
		name := strings.ToUpper(strings.TrimSpace(t))
		if ev := ed.Values().ByName(protoreflect.Name(name)); ev != nil {
			return name
		}
		w.fail(key, "unknown value %q (valid: %s)", t, strings.Join(valid, ", "))
	case float64:
		if ed.Values().ByNumber(protoreflect.EnumNumber(t)) != nil && t == math.Trunc(t) {
			return t
		}
		w.fail(key, "unknown value %v (valid: %s)", t, strings.Join(valid, ", "))
	default:
		w.fail(key, "want one of %s, got %s", strings.Join(valid, ", "), describe(v))
	}
	return v
}

func isInt(k protoreflect.Kind) bool {
	return k != protoreflect.FloatKind && k != protoreflect.DoubleKind
}

func isInt32(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return true
	}
	return false
}

func describe(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%v", t)
	}
}

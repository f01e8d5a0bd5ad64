package protoconf

import (
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestDefaultsSource: a key no source sets takes its default; a key a file or the
// environment sets wins, also with false, 0, an empty string or an empty list.
func TestDefaultsSource(t *testing.T) {
	defaults := newRoot(t)
	err := protojson.Unmarshal([]byte(`{"server":{"addr":"x:1","timeout":"10s"},"name_servers":["a:1"],
		"labels":{"zone":"a"},"workers":4,"debug":true,"mode":"SAFE","max_bytes":"100","backends":[{"addr":"b:1"}]}`), defaults)
	if err != nil {
		t.Fatal(err)
	}
	yaml := "server:\n  timeout: 1s\nworkers: 0\ndebug: false\nname_servers: []\nlabels:\n  region: eu\n"
	p := writeFile(t, t.TempDir(), "config.yaml", yaml)
	m := newRoot(t)
	c, err := Load(quiet, m, NewDefaultsSource(defaults), NewFileSource(p, ""),
		NewEnvSource("APP_", m.Descriptor(), Environ("APP_MODE=fast")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for _, ck := range []struct {
		name      string
		got, want any
	}{
		{"default in a section the file has", get(m, "server", "addr").String(), "x:1"},
		{"file duration wins", durationOf(get(m, "server", "timeout")), time.Second},
		{"file 0 wins", field(m, "workers").Int(), int64(0)},
		{"file false wins", field(m, "debug").Bool(), false},
		{"file empty list wins", joinList(get(m, "name_servers")), ""},
		{"map entries merge", mapValue(get(m, "labels"), "zone") + "/" + mapValue(get(m, "labels"), "region"), "a/eu"},
		{"env enum wins", get(m, "mode").Enum(), protoreflect.EnumNumber(1)},
		{"default int64", get(m, "max_bytes").Int(), int64(100)},
		{"default list of messages", get(m, "backends").List().Get(0).Message().Get(m.Descriptor().Fields().ByName("server").Message().Fields().ByName("addr")).String(), "b:1"},
	} {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

// field reads a top-level field of m, zero values included.
func field(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

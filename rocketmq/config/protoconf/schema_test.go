package protoconf

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/durationpb" // google/protobuf/duration.proto in the registry
)

// The tests decode into a schema built here, the shape of a kratos-layout conf.proto:
//
//	message Root {
//	  message Server { string addr = 1; google.protobuf.Duration timeout = 2; }
//	  enum Mode { MODE_UNSPECIFIED = 0; FAST = 1; SAFE = 2; }
//	  Server server = 1;
//	  repeated string name_servers = 2;
//	  map<string, string> labels = 3;
//	  int32 workers = 4;
//	  bool debug = 5;
//	  Mode mode = 6;
//	  repeated Server backends = 7;
//	  double ratio = 8;
//	  int64 max_bytes = 9;
//	}
func testSchema(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	typ := func(k descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto_Type {
		return k.Enum()
	}
	field := func(name string, n int32, k descriptorpb.FieldDescriptorProto_Type, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ(k),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		str  = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		enum = descriptorpb.FieldDescriptorProto_TYPE_ENUM
	)
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("protoconf_test/root.proto"),
		Package:    proto.String("protoconf_test"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/duration.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Root"),
			NestedType: []*descriptorpb.DescriptorProto{
				{Name: proto.String("Server"), Field: []*descriptorpb.FieldDescriptorProto{
					field("addr", 1, str, "", false),
					field("timeout", 2, msg, ".google.protobuf.Duration", false),
				}},
				{Name: proto.String("LabelsEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
					Field: []*descriptorpb.FieldDescriptorProto{field("key", 1, str, "", false), field("value", 2, str, "", false)}},
			},
			EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Mode"), Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("MODE_UNSPECIFIED"), Number: proto.Int32(0)},
				{Name: proto.String("FAST"), Number: proto.Int32(1)},
				{Name: proto.String("SAFE"), Number: proto.Int32(2)},
			}}},
			Field: []*descriptorpb.FieldDescriptorProto{
				field("server", 1, msg, ".protoconf_test.Root.Server", false),
				field("name_servers", 2, str, "", true),
				field("labels", 3, msg, ".protoconf_test.Root.LabelsEntry", true),
				field("workers", 4, descriptorpb.FieldDescriptorProto_TYPE_INT32, "", false),
				field("debug", 5, descriptorpb.FieldDescriptorProto_TYPE_BOOL, "", false),
				field("mode", 6, enum, ".protoconf_test.Root.Mode", false),
				field("backends", 7, msg, ".protoconf_test.Root.Server", true),
				field("ratio", 8, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, "", false),
				field("max_bytes", 9, descriptorpb.FieldDescriptorProto_TYPE_INT64, "", false),
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().ByName("Root")
}

// newRoot returns an empty message of the test schema.
func newRoot(t *testing.T) *dynamicpb.Message {
	t.Helper()
	return dynamicpb.NewMessage(testSchema(t))
}

// get reads the value at a dotted path of m ("server.timeout"), or nil when unset.
func get(m protoreflect.Message, path ...string) protoreflect.Value {
	for i, name := range path {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if !m.Has(fd) {
			return protoreflect.Value{}
		}
		v := m.Get(fd)
		if i == len(path)-1 {
			return v
		}
		m = v.Message()
	}
	return protoreflect.Value{}
}

func joinList(v protoreflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	var parts []string
	for i := 0; i < v.List().Len(); i++ {
		parts = append(parts, v.List().Get(i).String())
	}
	return strings.Join(parts, ",")
}

func mapValue(v protoreflect.Value, key string) string {
	if !v.IsValid() {
		return ""
	}
	return v.Map().Get(protoreflect.ValueOfString(key).MapKey()).String()
}

// durationOf reads a google.protobuf.Duration value.
func durationOf(v protoreflect.Value) time.Duration {
	if !v.IsValid() {
		return 0
	}
	m := v.Message()
	fields := m.Descriptor().Fields()
	return time.Duration(m.Get(fields.ByName("seconds")).Int())*time.Second + time.Duration(m.Get(fields.ByName("nanos")).Int())
}

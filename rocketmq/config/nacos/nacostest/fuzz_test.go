package nacostest

import (
	"encoding/json"
	"testing"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc"
)

// discardStream is a bi-stream that accepts every push and never answers.
type discardStream struct{ grpc.ServerStream }

func (discardStream) Send(*pb.Payload) error     { return nil }
func (discardStream) Recv() (*pb.Payload, error) { select {} }

// FuzzDispatch feeds arbitrary request types and bodies to a registered connection: the
// server answers every one with an encodable response and never panics.
func FuzzDispatch(f *testing.F) {
	seeds := []struct{ typ, body string }{
		{"ServerCheckRequest", `{}`},
		{"HealthCheckRequest", `{}`},
		{"ConfigQueryRequest", `{"dataId":"a.yaml","group":"G","tenant":""}`},
		{"ConfigPublishRequest", `{"dataId":"a.yaml","group":"G","content":"a: 1","additionMap":{"type":"yaml"}}`},
		{"ConfigPublishRequest", `{"dataId":"a.yaml","group":"G","content":"a: 2","casMd5":"x"}`},
		{"ConfigRemoveRequest", `{"dataId":"a.yaml","group":"G"}`},
		{"ConfigBatchListenRequest", `{"listen":true,"configListenContexts":[{"dataId":"a.yaml","group":"G","md5":""}]}`},
		{"ConfigBatchListenRequest", `{"listen":false,"configListenContexts":[{"dataId":"a.yaml","group":"G"}]}`},
		{"ConfigQueryRequest", `{"dataId":1}`},
		{"ConfigBatchListenRequest", `[`},
		{"Nonsense", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.body))
	}
	srv, err := New(WithPushRetry(1, time.Millisecond, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close() })
	c := &conn{id: "fuzz", kicked: make(chan struct{}), stream: discardStream{}, pending: make(map[string]chan response)}
	if err := srv.register(c); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		rep := srv.dispatch(c.id, &request{typ: typ, body: body, headers: map[string]string{}})
		p, err := encode(rep.typ, rep.body)
		if err != nil {
			t.Fatalf("%s: answer does not encode: %v", typ, err)
		}
		var r response
		if err := json.Unmarshal(p.GetBody().GetValue(), &r); err != nil || r.ResultCode == 0 {
			t.Fatalf("%s: answer %s has no result code (%v)", typ, p.GetBody().GetValue(), err)
		}
	})
}

package nacostest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// rawConn talks the wire protocol directly, to check answers the client library hides.
type rawConn struct {
	t   *testing.T
	req pb.RequestClient
	bi  pb.BiRequestStreamClient
}

func dialRaw(t *testing.T, srv *nacostest.Server) *rawConn {
	t.Helper()
	cc, err := grpc.NewClient(srv.GrpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &rawConn{t: t, req: pb.NewRequestClient(cc), bi: pb.NewBiRequestStreamClient(cc)}
}

type answer struct {
	typ          string
	ResultCode   int    `json:"resultCode"`
	ErrorCode    int    `json:"errorCode"`
	Message      string `json:"message"`
	Success      bool   `json:"success"`
	ConnectionID string `json:"connectionId"`
	Content      string `json:"content"`
}

func payload(typ string, body any, headers map[string]string) *pb.Payload {
	data, _ := json.Marshal(body)
	return &pb.Payload{Metadata: &pb.Metadata{Type: typ, Headers: headers}, Body: &anypb.Any{Value: data}}
}

func (r *rawConn) call(typ string, body any) answer {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := r.req.Request(ctx, payload(typ, body, nil))
	if err != nil {
		r.t.Fatalf("%s: %v", typ, err)
	}
	a := answer{typ: p.GetMetadata().GetType()}
	if err := json.Unmarshal(p.GetBody().GetValue(), &a); err != nil {
		r.t.Fatalf("%s: answer %q: %v", typ, p.GetBody().GetValue(), err)
	}
	return a
}

// setup opens the bi-stream and sends ConnectionSetupRequest; the stream stays open until
// the test ends.
func (r *rawConn) setup() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	stream, err := r.bi.RequestBiStream(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	err = stream.Send(payload("ConnectionSetupRequest", map[string]any{"clientVersion": "raw-test", "labels": map[string]string{}}, nil))
	if err != nil {
		r.t.Fatal(err)
	}
}

func TestProtocolAnswers(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "raw.yaml", "a: 1\n")
	query := map[string]string{"dataId": "raw.yaml", "group": nacostest.DefaultGroup, "module": "config"}
	c := dialRaw(t, srv)

	if a := c.call("ServerCheckRequest", map[string]string{}); a.typ != "ServerCheckResponse" || a.ResultCode != 200 || a.ConnectionID == "" {
		t.Fatalf("ServerCheckRequest answered %+v", a)
	}
	if a := c.call("NoSuchRequest", map[string]string{}); a.typ != "ErrorResponse" || a.ErrorCode != 302 {
		t.Fatalf("an unknown request was answered %+v, want ErrorResponse 302", a)
	}
	if a := c.call("ConfigQueryRequest", query); a.typ != "ErrorResponse" || a.ErrorCode != 301 {
		t.Fatalf("a query before ConnectionSetupRequest was answered %+v, want ErrorResponse 301", a)
	}

	c.setup()
	poll.Until(t, 5*time.Second, "the connection to be registered", func() bool { return len(srv.ConnectionIDs()) == 1 })
	if a := c.call("ConfigQueryRequest", query); a.typ != "ConfigQueryResponse" || !a.Success || a.Content != "a: 1\n" {
		t.Fatalf("ConfigQueryRequest answered %+v", a)
	}
	missing := map[string]string{"dataId": "none.yaml", "group": nacostest.DefaultGroup}
	if a := c.call("ConfigQueryRequest", missing); a.typ != "ConfigQueryResponse" || a.ErrorCode != 300 || a.Success {
		t.Fatalf("a query of a missing config answered %+v, want CONFIG_NOT_FOUND", a)
	}
	if a := c.call("ConfigQueryRequest", map[string]string{"dataId": "raw.yaml"}); a.ErrorCode != 400 {
		t.Fatalf("a query without a group answered %+v, want 400", a)
	}
	if a := c.call("HealthCheckRequest", map[string]string{}); a.typ != "HealthCheckResponse" || !a.Success {
		t.Fatalf("HealthCheckRequest answered %+v", a)
	}
	cas := map[string]any{"dataId": "raw.yaml", "group": nacostest.DefaultGroup, "content": "a: 2\n", "casMd5": "stale"}
	if a := c.call("ConfigPublishRequest", cas); a.typ != "ConfigPublishResponse" || a.Success {
		t.Fatalf("a publish with a stale casMd5 answered %+v", a)
	}
	if got, _ := srv.Config("", "", "raw.yaml"); got != "a: 1\n" {
		t.Fatalf("a failed compare-and-swap changed the config to %q", got)
	}

	srv.SetStarting(true)
	if a := c.call("HealthCheckRequest", map[string]string{}); a.typ != "ErrorResponse" || a.ErrorCode != 300 {
		t.Fatalf("a starting server answered %+v, want ErrorResponse 300", a)
	}
}

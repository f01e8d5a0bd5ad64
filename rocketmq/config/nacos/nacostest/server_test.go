package nacostest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

type change struct{ namespace, group, dataID, content string }

// The client registers its listeners on its own schedule (every 5s, or right after it
// connects), so waits for the first listen are generous.
const listenWait = 15 * time.Second

func TestPublishQueryListen(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	c := newClient(t, srv)

	got, err := c.GetConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G"})
	if err != nil || got != "" {
		t.Fatalf("GetConfig of a missing config = %q, %v; want empty, nil", got, err)
	}
	ok, err := c.PublishConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G", Content: "a: 1\n", Type: "yaml"})
	if err != nil || !ok {
		t.Fatalf("PublishConfig = %v, %v", ok, err)
	}
	if got, found := srv.Config("", "G", "app.yaml"); !found || got != "a: 1\n" {
		t.Fatalf("server holds %q (found %v) after publish", got, found)
	}
	if got, err := c.GetConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G"}); err != nil || got != "a: 1\n" {
		t.Fatalf("GetConfig = %q, %v", got, err)
	}

	changes := make(chan change, 10)
	err = c.ListenConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G", OnChange: func(ns, g, id, data string) {
		changes <- change{ns, g, id, data}
	}})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, listenWait, "the client to listen", func() bool { return srv.Listening("", "G", "app.yaml") == 1 })
	nacostest.WaitClientsIdle(t, 10*time.Second)

	srv.Publish("", "G", "app.yaml", "a: 2\n")
	if ch := recv(t, "the pushed change", changes, 10*time.Second); ch != (change{"", "G", "app.yaml", "a: 2\n"}) {
		t.Fatalf("listener got %+v", ch)
	}
	srv.Publish("", "G", "app.yaml", "a: 2\n") // same content: no push
	if !srv.Delete("", "G", "app.yaml") {
		t.Fatal("Delete of an existing config reported false")
	}
	if ch := recv(t, "the deletion", changes, 10*time.Second); ch.content != "" {
		t.Fatalf("after delete the listener got %+v, want empty content", ch)
	}
}

// Without a gRPC port the client dials the HTTP port + 1000, which the server takes when
// it is free.
func TestDefaultGrpcPortOffset(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	sc := srv.ServerConfig()
	if sc.GrpcPort != sc.Port+1000 {
		t.Skipf("port %d was taken, the server listens on %d", sc.Port+1000, sc.GrpcPort)
	}
	srv.Publish("", "", "offset.yaml", "a: 1\n")
	c := newClient(t, srv, withoutGrpcPort())
	if got, err := c.GetConfig(vo.ConfigParam{DataId: "offset.yaml", Group: nacostest.DefaultGroup}); err != nil || got != "a: 1\n" {
		t.Fatalf("GetConfig = %q, %v", got, err)
	}
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	srv.Publish("", "", "ns.yaml", "in: public\n")
	srv.Publish("dev", "", "ns.yaml", "in: dev\n")
	for ns, want := range map[string]string{"": "in: public\n", "public": "in: public\n", "dev": "in: dev\n"} {
		c := newClient(t, srv, withNamespace(ns))
		if got, err := c.GetConfig(vo.ConfigParam{DataId: "ns.yaml", Group: nacostest.DefaultGroup}); err != nil || got != want {
			t.Errorf("namespace %q: GetConfig = %q, %v; want %q", ns, got, err, want)
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t, nacostest.WithAuth("nacos", "secret"))
	srv.Publish("", "", "auth.yaml", "a: 1\n")
	tests := []struct {
		name       string
		user, pass string
		wantErr    bool
	}{
		{name: "no credentials", wantErr: true},
		{name: "wrong password", user: "nacos", pass: "guess", wantErr: true},
		{name: "logged in", user: "nacos", pass: "secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv, withCredentials(tc.user, tc.pass))
			got, err := c.GetConfig(vo.ConfigParam{DataId: "auth.yaml", Group: nacostest.DefaultGroup})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "user not found!") {
					t.Fatalf("GetConfig = %q, %v; want the server's refusal", got, err)
				}
				return
			}
			if err != nil || got != "a: 1\n" {
				t.Fatalf("GetConfig = %q, %v", got, err)
			}
		})
	}
}

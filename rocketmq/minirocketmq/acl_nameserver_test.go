package minirocketmq_test

import (
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// TestACLNameServer: with ACL on, the name server's mutating request
// (DELETE_TOPIC_IN_NAMESRV) needs an admin account's signature; unsigned
// or non-admin ones are refused and change nothing. Route and topic-list
// queries stay open, and a route query for a %RETRY% or %DLQ% topic that
// does not exist creates nothing, signed or not.
func TestACLNameServer(t *testing.T) {
	skipExternal(t)
	v, err := acl.Parse([]byte(`
accounts:
  - accessKey: app-client
    secretKey: app-secret-1
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
  - accessKey: ops-admin
    secretKey: ops-secret-12
    admin: true
`))
	if err != nil {
		t.Fatal(err)
	}
	b := runBroker(t, minirocketmq.WithACL(v))
	if err := b.CreateTopic("GuardedT", 2); err != nil {
		t.Fatal(err)
	}
	ns := dial(t, b.NameServerAddr())
	signed := func(req *remoting.Command, key, secret string) *remoting.Command {
		req.Set("AccessKey", key)
		req.Set("Signature", acl.Sign(req, secret, false))
		return req
	}
	del := func() *remoting.Command {
		return remoting.NewRequest(remoting.DeleteTopicInNameSrv, "topic", "GuardedT")
	}
	route := func(topic string) int16 {
		return invoke(t, ns, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic)).Code
	}
	for _, tc := range []struct {
		name   string
		req    *remoting.Command
		remark string
	}{
		{"unsigned", del(), "No accessKey is configured"},
		{"bad signature", signed(del(), "ops-admin", "wrong"), "Check signature failed for accessKey=ops-admin"},
		{"not an admin", signed(del(), "app-client", "app-secret-1"), "Need admin permission for request code=216, but accessKey=app-client is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := invoke(t, ns, tc.req)
			if resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, tc.remark) {
				t.Fatalf("code %d remark %q, want SYSTEM_ERROR %q", resp.Code, resp.Remark, tc.remark)
			}
			if code := route("GuardedT"); code != remoting.Success {
				t.Fatalf("route after a refused delete: code %d", code)
			}
		})
	}
	before := len(b.Topics())
	for _, topic := range []string{"%RETRY%AnyGroup", "%DLQ%AnyGroup"} {
		if code := route(topic); code != remoting.Success {
			t.Fatalf("route of %s: code %d", topic, code)
		}
		if _, ok := b.Topic(topic); ok {
			t.Fatalf("an unsigned route query created %s", topic)
		}
	}
	if after := len(b.Topics()); after != before {
		t.Fatalf("%d topics before the route queries, %d after", before, after)
	}
	if resp := invoke(t, ns, signed(del(), "ops-admin", "ops-secret-12")); resp.Code != remoting.Success {
		t.Fatalf("admin delete: code %d %s", resp.Code, resp.Remark)
	}
	if code := route("GuardedT"); code != remoting.TopicNotExist {
		t.Fatalf("route after the admin's delete: code %d", code)
	}
}

// TestDeleteTopicInNameSrvDropsRouteOnly: DELETE_TOPIC_IN_NAMESRV alone
// drops the route, as on the real name server: the topic list leaves the
// topic out, but the broker keeps the topic and its messages, and the
// route comes back when the broker registers the topic again (here: an
// update of the topic).
func TestDeleteTopicInNameSrvDropsRouteOnly(t *testing.T) {
	skipExternal(t)
	b := runBroker(t)
	if err := b.CreateTopic("RouteOnlyT", 2); err != nil {
		t.Fatal(err)
	}
	broker := dial(t, b.BrokerAddr())
	sendV1(t, broker, "RouteOnlyT", "kept", "", 0)
	ns := dial(t, b.NameServerAddr())
	if resp := invoke(t, ns, remoting.NewRequest(remoting.DeleteTopicInNameSrv, "topic", "RouteOnlyT")); resp.Code != remoting.Success {
		t.Fatalf("216: code %d %s", resp.Code, resp.Remark)
	}
	if resp := invoke(t, ns, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "RouteOnlyT")); resp.Code != remoting.TopicNotExist {
		t.Fatalf("route after 216: code %d", resp.Code)
	}
	if list := invoke(t, ns, remoting.NewRequest(remoting.GetAllTopicListFromNameServer)); strings.Contains(string(list.Body), `"RouteOnlyT"`) {
		t.Fatalf("topic list after 216: %s", list.Body)
	}
	if _, ok := b.Topic("RouteOnlyT"); !ok {
		t.Fatal("216 deleted the broker's topic")
	}
	if n := b.MaxOffset("RouteOnlyT", 0); n != 1 {
		t.Fatalf("216 deleted messages: %d left", n)
	}
	if resp := invoke(t, broker, remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", "RouteOnlyT",
		"readQueueNums", "2", "writeQueueNums", "2", "perm", "6", "topicFilterType", "SINGLE_TAG")); resp.Code != remoting.Success {
		t.Fatalf("update: code %d %s", resp.Code, resp.Remark)
	}
	if resp := invoke(t, ns, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "RouteOnlyT")); resp.Code != remoting.Success {
		t.Fatalf("route after the broker registered the topic again: code %d", resp.Code)
	}
}

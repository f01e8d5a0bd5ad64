package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// Requests the Go client never sends but Java clients and the admin tools
// do, spoken with our remoting client; they run against ROCKETMQ_NAMESRV
// too.

// sendV2 sends a message the way a Java client does: SEND_MESSAGE_V2 with
// the one-letter header, optionally with the ROCKETMQ binary header (then
// it returns no response).
func sendV2(t *testing.T, conn *remoting.Conn, topic, body, props string, binaryHeader bool) *remoting.Command {
	t.Helper()
	req := remoting.NewRequest(remoting.SendMessageV2,
		"a", "JavaPG", "b", topic, "c", "TBW102", "d", "4", "e", "0", "f", "0",
		"g", fmt.Sprint(time.Now().UnixMilli()), "h", "0", "i", props, "j", "0", "k", "false", "m", "false")
	req.Body = []byte(body)
	if !binaryHeader {
		return invoke(t, conn, req)
	}
	// Invoke writes JSON headers: write the binary form by hand. Its
	// answer carries an opaque nobody waits for; the broker answers the
	// requests of a connection in order, so once a later request is
	// answered the send has been handled.
	req.Opaque = 77001
	frame, err := remoting.AppendBinaryFrame(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SendRaw(frame); err != nil {
		t.Fatal(err)
	}
	invoke(t, conn, remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", "0"))
	return nil
}

func TestJavaStyleSendV2(t *testing.T) {
	ns := rmqtest.NameServer(t)
	conn := dial(t, brokerAddr(t, ns))
	topic := rmqtest.Name(t, "T")
	resp := sendV2(t, conn, topic, "hello from java", "KEYS\x01jk\x02TAGS\x01jt\x02WAIT\x01true\x02", false)
	if resp.Code != remoting.Success {
		t.Fatalf("SEND_MESSAGE_V2: code %d %s", resp.Code, resp.Remark)
	}
	for _, k := range []string{"msgId", "queueId", "queueOffset", "MSG_REGION", "TRACE_ON"} {
		if _, ok := resp.Lookup(k); !ok {
			t.Errorf("response lacks %s: %v", k, resp.Ext)
		}
	}
	_, off, err := message.ParseOffsetMsgID(resp.Get("msgId"))
	if err != nil {
		t.Fatal(err)
	}
	view := invoke(t, conn, remoting.NewRequest(remoting.ViewMessageByID, "offset", fmt.Sprint(off)))
	msgs := decodeRecords(t, view.Body)
	if len(msgs) != 1 || string(msgs[0].Body) != "hello from java" {
		t.Fatalf("stored %+v", msgs)
	}
	props := message.ParseProperties(msgs[0].Properties)
	if props["KEYS"] != "jk" || props["TAGS"] != "jt" || props["CLUSTER"] == "" {
		t.Fatalf("stored properties %q", msgs[0].Properties)
	}
	if _, ok := props["WAIT"]; ok {
		t.Fatalf("WAIT was stored: %q", msgs[0].Properties)
	}
}

// TestBinaryHeaderRequest: a request with the ROCKETMQ binary header (Java
// clients with -Drocketmq.serialize.type=ROCKETMQ) is understood.
func TestBinaryHeaderRequest(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("checks what was stored with a test hook")
	}
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, brokerAddr(t, ns))
	sendV2(t, conn, topic, "binary", "", true)
	if n := b.MaxOffset(topic, 0); n != 1 {
		t.Fatalf("queue has %d messages after a binary-header send", n)
	}
}

// TestOffsetQueries: GET_MIN_OFFSET, GET_MAX_OFFSET and
// GET_EARLIEST_MSG_STORETIME on an unknown queue and on a used one.
func TestOffsetQueries(t *testing.T) {
	ns := rmqtest.NameServer(t)
	conn := dial(t, brokerAddr(t, ns))
	topic := rmqtest.Name(t, "T")
	q := func(code int16, field string) string {
		resp := invoke(t, conn, remoting.NewRequest(code, "topic", topic, "queueId", "0"))
		if resp.Code != remoting.Success {
			t.Fatalf("code %d: %d %s", code, resp.Code, resp.Remark)
		}
		return resp.Get(field)
	}
	if min, max, earliest := q(remoting.GetMinOffset, "offset"), q(remoting.GetMaxOffset, "offset"), q(remoting.GetEarliestMsgStoretime, "timestamp"); min != "0" || max != "0" || earliest != "-1" {
		t.Fatalf("unknown queue: min %s max %s earliest %s", min, max, earliest)
	}
	before := time.Now().UnixMilli()
	for i := range 3 {
		if resp := sendV2(t, conn, topic, fmt.Sprint(i), "", false); resp.Code != remoting.Success {
			t.Fatalf("send: %d %s", resp.Code, resp.Remark)
		}
	}
	var earliest int64
	waitFor(t, 10*time.Second, "the queue to show 3 messages", func() bool { return q(remoting.GetMaxOffset, "offset") == "3" })
	if _, err := fmt.Sscan(q(remoting.GetEarliestMsgStoretime, "timestamp"), &earliest); err != nil || earliest < before-1000 || earliest > time.Now().UnixMilli()+1000 {
		t.Fatalf("earliest store time %d (sent at %d)", earliest, before)
	}
	if min := q(remoting.GetMinOffset, "offset"); min != "0" {
		t.Fatalf("min offset %s", min)
	}
}

// TestClusterInfo: GET_BROKER_CLUSTER_INFO lists the broker under its
// cluster with its address.
func TestClusterInfo(t *testing.T) {
	ns := rmqtest.NameServer(t)
	resp := invoke(t, dial(t, ns), remoting.NewRequest(remoting.GetBrokerClusterInfo))
	if resp.Code != remoting.Success {
		t.Fatalf("code %d %s", resp.Code, resp.Remark)
	}
	var info struct {
		BrokerAddrTable map[string]struct {
			BrokerAddrs map[string]string `json:"brokerAddrs"`
		} `json:"brokerAddrTable"`
		ClusterAddrTable map[string][]string `json:"clusterAddrTable"`
	}
	// A real name server writes broker ids unquoted ({0:"addr"},
	// fastjson); clients cope, encoding/json does not.
	body := regexp.MustCompile(`([{,])(\d+):`).ReplaceAll(resp.Body, []byte(`$1"$2":`))
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("%v in %s", err, resp.Body)
	}
	addr := brokerAddr(t, ns)
	found := false
	for cluster, names := range info.ClusterAddrTable {
		for _, n := range names {
			if info.BrokerAddrTable[n].BrokerAddrs["0"] == addr {
				found = true
				t.Logf("cluster %s broker %s at %s", cluster, n, addr)
			}
		}
	}
	if !found {
		t.Fatalf("broker %s not in %s", addr, resp.Body)
	}
}

// consumerHeartbeat registers conn as a consumer of group on topic.
func consumerHeartbeat(t *testing.T, conn *remoting.Conn, clientID, group, topic string) {
	t.Helper()
	req := remoting.NewRequest(remoting.HeartBeat)
	req.Body = []byte(fmt.Sprintf(`{"clientID":%q,"producerDataSet":[],"consumerDataSet":[{"groupName":%q,"consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,"subscriptionDataSet":[{"classFilterMode":false,"topic":%q,"subString":"*","tagsSet":[],"codeSet":[],"subVersion":%d,"expressionType":"TAG"}]}]}`,
		clientID, group, topic, time.Now().UnixMilli()))
	if resp := invoke(t, conn, req); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
}

func consumerList(t *testing.T, conn *remoting.Conn, group string) []string {
	t.Helper()
	resp := invoke(t, conn, remoting.NewRequest(remoting.GetConsumerListByGroup, "consumerGroup", group))
	if resp.Code != remoting.Success {
		return nil
	}
	var body struct {
		ConsumerIDList []string `json:"consumerIdList"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatal(err)
	}
	sort.Strings(body.ConsumerIDList) // the real broker does not sort; clients do
	return body.ConsumerIDList
}

// TestConsumerMembership: heartbeats register members, members are told of
// joins and leaves with NOTIFY_CONSUMER_IDS_CHANGED, UNREGISTER_CLIENT and
// a closed connection remove a member.
func TestConsumerMembership(t *testing.T) {
	ns := rmqtest.NameServer(t)
	addr := brokerAddr(t, ns)
	group, topic := rmqtest.Name(t, "CG"), rmqtest.Name(t, "T")
	notified := make(chan string, 16)
	first, err := remoting.Dial(context.Background(), addr, func(_ *remoting.Conn, cmd *remoting.Command) error {
		if cmd.Code == remoting.NotifyConsumerIDsChanged {
			notified <- cmd.Get("consumerGroup")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	consumerHeartbeat(t, first, "10.0.0.1@first", group, topic)
	if ids := consumerList(t, first, group); fmt.Sprint(ids) != "[10.0.0.1@first]" {
		t.Fatalf("members %v", ids)
	}
	drain := func() {
		for len(notified) > 0 {
			<-notified
		}
	}
	waitNotified := func(what string) {
		t.Helper()
		select {
		case g := <-notified:
			if g != group {
				t.Fatalf("notified for group %q", g)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no NOTIFY_CONSUMER_IDS_CHANGED after %s", what)
		}
	}
	drain()

	second := dial(t, addr)
	consumerHeartbeat(t, second, "10.0.0.2@second", group, topic)
	waitNotified("a join")
	if ids := consumerList(t, first, group); fmt.Sprint(ids) != "[10.0.0.1@first 10.0.0.2@second]" {
		t.Fatalf("members %v", ids)
	}

	drain()
	if resp := invoke(t, second, remoting.NewRequest(remoting.UnregisterClient, "clientID", "10.0.0.2@second", "consumerGroup", group)); resp.Code != remoting.Success {
		t.Fatalf("unregister: %d %s", resp.Code, resp.Remark)
	}
	waitNotified("an unregister")
	if ids := consumerList(t, first, group); fmt.Sprint(ids) != "[10.0.0.1@first]" {
		t.Fatalf("members after unregister %v", ids)
	}

	consumerHeartbeat(t, second, "10.0.0.2@second", group, topic)
	waitFor(t, 10*time.Second, "the second member back", func() bool { return len(consumerList(t, first, group)) == 2 })
	drain()
	_ = second.Close()
	waitNotified("a closed connection")
	waitFor(t, 10*time.Second, "the closed member to go", func() bool {
		return fmt.Sprint(consumerList(t, first, group)) == "[10.0.0.1@first]"
	})
}

// mqadmin returns a function that runs the mqadmin tool of the RocketMQ
// release in $ROCKETMQ_HOME (default /opt/rocketmq-4.9.4) and returns
// what it printed; the test is skipped when the release or java is
// missing (CI has neither).
func mqadmin(t *testing.T) func(args ...string) string {
	t.Helper()
	home := os.Getenv("ROCKETMQ_HOME")
	if home == "" {
		home = "/opt/rocketmq-4.9.4"
	}
	jars, _ := filepath.Glob(filepath.Join(home, "lib", "rocketmq-tools-*.jar"))
	java, err := exec.LookPath("java")
	if len(jars) == 0 || err != nil {
		t.Skipf("needs the RocketMQ release (%s/lib/rocketmq-tools-*.jar) and java", home)
	}
	userHome := t.TempDir() // the tool logs under ~/logs
	return func(args ...string) string {
		cmd := exec.Command(java, append([]string{"-Xms64m", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
			"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
			"--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.util=ALL-UNNAMED",
			"-Drocketmq.home.dir=" + home, "-Duser.home=" + userHome,
			"-cp", home + "/conf:" + home + "/lib/*", "org.apache.rocketmq.tools.command.MQAdminStartup"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Sprintf("%s\nexit: %v", out, err)
		}
		return string(out)
	}
}

package minirocketmq_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The request codes the admin tools send (mqadmin, the dashboard), spoken
// with raw frames next to a live Go producer and consumer. java_test.go
// runs the real mqadmin against the same broker when RocketMQ 4.9.4 is
// installed; these run everywhere.

// mqKeys turns the Java tools' maps keyed by MessageQueue objects
// ({{"brokerName":..,"queueId":N,"topic":"T"}:v}) into standard JSON keyed
// "T/N".
func mqKeys(body []byte) []byte {
	re := regexp.MustCompile(`\{"brokerName":"[^"]*","queueId":(\d+),"topic":"([^"]*)"\}:`)
	return re.ReplaceAll(body, []byte(`"$2/$1":`))
}

func unmarshalAdmin(t *testing.T, resp *remoting.Command, v any) {
	t.Helper()
	if resp.Code != remoting.Success {
		t.Fatalf("code %d %s", resp.Code, resp.Remark)
	}
	if err := json.Unmarshal(mqKeys(resp.Body), v); err != nil {
		t.Fatalf("%v in %s", err, resp.Body)
	}
}

// liveGroup starts a producer of group pg sending n messages (property
// idx, key "k<i>") to topic, and a push consumer of group g consuming them,
// and waits until all are consumed and the offsets committed.
func liveGroup(t *testing.T, ns, topic, pg, g string, n int) (*collector, []*primitive.SendResult) {
	t.Helper()
	// One client instance for both: the consumer's heartbeat at its start
	// registers the producer group too (a producer alone heartbeats a
	// broker only at its next 30 s tick after it routed a topic there).
	instance := instanceName(t)
	p := newProducer(t, ns, producer.WithGroupName(pg), producer.WithInstanceName(instance))
	var sent []*primitive.SendResult
	for i := range n {
		m := newMsg(topic, fmt.Sprint("body-", i), fmt.Sprint(i))
		m.WithKeys([]string{fmt.Sprint("k", i)})
		res, err := p.SendSync(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, res)
	}
	col := newCollector()
	c := newPushConsumer(t, ns, g, consumer.WithInstance(instance))
	if err := c.Subscribe(topic, consumer.MessageSelector{}, col.handle); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 60*time.Second, "consumption", func() bool { return col.len() == n })
	return col, sent
}

// TestAdminConnectionsAndStats: GET_CONSUMER_CONNECTION_LIST (203),
// GET_PRODUCER_CONNECTION_LIST (204), GET_TOPIC_STATS_INFO (202),
// QUERY_TOPIC_CONSUME_BY_WHO (300), VIEW_BROKER_STATS_DATA (315),
// GET_BROKER_CONSUME_STATS (317), GET_BROKER_RUNTIME_INFO (28) and
// GET_CONSUME_STATS' rate (208) describe a live producer and consumer.
func TestAdminConnectionsAndStats(t *testing.T) {
	ns, b := rmqtest.Start(t)
	topic, pg, g := rmqtest.Name(t, "T"), rmqtest.Name(t, "PG"), rmqtest.Name(t, "CG")
	const n = 20
	liveGroup(t, ns, topic, pg, g, n)
	conn := dial(t, brokerAddr(t, ns))

	var cc struct {
		ConnectionSet []struct {
			ClientAddr, ClientID, Language string
			Version                        int
		} `json:"connectionSet"`
		ConsumeType, MessageModel, ConsumeFromWhere string
		SubscriptionTable                           map[string]struct {
			Topic, SubString, ExpressionType string
			SubVersion                       int64
			TagsSet                          []string
			CodeSet                          []int
		} `json:"subscriptionTable"`
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetConsumerConnectionList, "consumerGroup", g)), &cc)
	if len(cc.ConnectionSet) != 1 || cc.ConnectionSet[0].Language != "GO" || cc.ConnectionSet[0].ClientAddr == "" || cc.ConsumeType != "CONSUME_PASSIVELY" ||
		cc.MessageModel != "CLUSTERING" || cc.SubscriptionTable[topic].SubString != "*" || cc.SubscriptionTable[minirocketmq.RetryTopic(g)].Topic == "" {
		t.Fatalf("consumer connection %+v", cc)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.GetConsumerConnectionList, "consumerGroup", "NoSuch"+g)); resp.Code != remoting.ConsumerNotOnline {
		t.Fatalf("unknown group: code %d %s", resp.Code, resp.Remark)
	}

	var pc struct {
		ConnectionSet []struct{ ClientID, Language string } `json:"connectionSet"`
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetProducerConnectionList, "producerGroup", pg)), &pc)
	if len(pc.ConnectionSet) != 1 || pc.ConnectionSet[0].ClientID == "" {
		t.Fatalf("producer connection %+v", pc)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.GetProducerConnectionList, "producerGroup", "NoSuch"+pg)); resp.Code != remoting.SystemError {
		t.Fatalf("unknown producer group: code %d", resp.Code)
	}

	var ts struct {
		OffsetTable map[string]struct{ MinOffset, MaxOffset, LastUpdateTimestamp int64 } `json:"offsetTable"`
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetTopicStatsInfo, "topic", topic)), &ts)
	total := int64(0)
	for q, o := range ts.OffsetTable {
		total += o.MaxOffset - o.MinOffset
		if o.MaxOffset > 0 && o.LastUpdateTimestamp < time.Now().Add(-time.Hour).UnixMilli() {
			t.Errorf("queue %s: last update %d", q, o.LastUpdateTimestamp)
		}
	}
	if total != n || len(ts.OffsetTable) == 0 {
		t.Fatalf("topic stats %+v, want %d messages", ts, n)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.GetTopicStatsInfo, "topic", "NoSuch"+topic)); resp.Code != remoting.TopicNotExist {
		t.Fatalf("unknown topic: code %d", resp.Code)
	}

	var gl struct {
		GroupList []string `json:"groupList"`
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.QueryTopicConsumeByWho, "topic", topic)), &gl)
	if fmt.Sprint(gl.GroupList) != fmt.Sprintf("[%s]", g) {
		t.Fatalf("groups of %s: %v", topic, gl.GroupList)
	}

	var cs struct {
		BrokerAddr       string
		ConsumeStatsList []map[string][]struct {
			ConsumeTps  float64
			OffsetTable map[string]struct{ BrokerOffset, ConsumerOffset, LastTimestamp int64 }
		}
		TotalDiff int64
	}
	waitFor(t, 30*time.Second, "the group's offsets committed", func() bool {
		unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetBrokerConsumeStats, "isOrder", "false")), &cs)
		for _, m := range cs.ConsumeStatsList {
			for _, st := range m[g] {
				consumed := int64(0)
				for q, o := range st.OffsetTable {
					if strings.HasPrefix(q, topic+"/") {
						consumed += o.ConsumerOffset
					}
				}
				if consumed == n {
					return true
				}
			}
		}
		return false
	})
	if cs.BrokerAddr == "" {
		t.Fatalf("broker consume stats without brokerAddr: %+v", cs)
	}
	if b == nil {
		return // the real broker samples its statistics every 10 s
	}
	type statsItem struct {
		Sum        int64
		Tps, Avgpt float64
	}
	var sd struct{ StatsMinute, StatsHour, StatsDay statsItem }
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.ViewBrokerStatsData, "statsName", "TOPIC_PUT_NUMS", "statsKey", topic)), &sd)
	if sd.StatsMinute.Sum != n || sd.StatsHour.Sum != n || sd.StatsDay.Sum != n || sd.StatsMinute.Tps <= 0 || sd.StatsDay.Avgpt != 1 {
		t.Fatalf("put stats %+v", sd)
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.ViewBrokerStatsData, "statsName", "GROUP_GET_NUMS", "statsKey", topic+"@"+g)), &sd)
	if sd.StatsDay.Sum != n {
		t.Fatalf("get stats %+v", sd)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.ViewBrokerStatsData, "statsName", "TOPIC_PUT_NUMS", "statsKey", "NoSuch"+topic)); resp.Code != remoting.SystemError ||
		resp.Remark != "The stats <TOPIC_PUT_NUMS> <NoSuch"+topic+"> not exist" {
		t.Fatalf("stats of an idle topic: %d %q", resp.Code, resp.Remark)
	}
	var rt struct{ Table map[string]string }
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetBrokerRuntimeInfo)), &rt)
	if put, _ := strconv.Atoi(rt.Table["msgPutTotalTodayNow"]); put < n || rt.Table["brokerVersionDesc"] != "V4_9_4" || !strings.HasPrefix(rt.Table["runtime"], "[ 0 days") {
		t.Fatalf("runtime info %v", rt.Table)
	}
	var stats struct{ ConsumeTps float64 }
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetConsumeStats, "consumerGroup", g, "topic", topic)), &stats)
	if stats.ConsumeTps <= 0 {
		t.Fatalf("consume stats without a rate: %+v", stats)
	}
}

// TestDeleteSubscriptionGroup: DELETE_SUBSCRIPTIONGROUP (207) removes a
// group's settings, and its offsets with removeOffset.
func TestDeleteSubscriptionGroup(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("checks the group table with test hooks")
	}
	conn := dial(t, brokerAddr(t, ns))
	for _, removeOffset := range []bool{false, true} {
		group := rmqtest.Name(t, "CG") + strconv.FormatBool(removeOffset)
		create := remoting.NewRequest(remoting.UpdateAndCreateSubscriptionGroup)
		create.Body = fmt.Appendf(nil, `{"groupName":%q,"retryMaxTimes":3}`, group)
		if resp := invoke(t, conn, create); resp.Code != remoting.Success {
			t.Fatalf("create: %d %s", resp.Code, resp.Remark)
		}
		invoke(t, conn, remoting.NewRequest(remoting.UpdateConsumerOffset, "consumerGroup", group, "topic", "SomeT", "queueId", "0", "commitOffset", "5"))
		if resp := invoke(t, conn, remoting.NewRequest(remoting.DeleteSubscriptionGroup, "groupName", group, "removeOffset", strconv.FormatBool(removeOffset))); resp.Code != remoting.Success {
			t.Fatalf("delete: %d %s", resp.Code, resp.Remark)
		}
		if _, ok := b.SubscriptionGroup(group); ok {
			t.Fatalf("group %s still configured", group)
		}
		if _, ok := b.ConsumerOffset(group, "SomeT", 0); ok == removeOffset {
			t.Fatalf("removeOffset %t: offset kept %t", removeOffset, ok)
		}
	}
}

// TestAdminConfigCodes: GET_BROKER_CONFIG (26), UPDATE_BROKER_CONFIG (25),
// GET_NAMESRV_CONFIG (319), GET_KV_CONFIG (101), GET_TOPICS_BY_CLUSTER
// (224), GET_SYSTEM_TOPIC_LIST_FROM_NS (304), GET_ALL_CONSUMER_OFFSET (43),
// GET_ALL_DELAY_OFFSET (45) and QUERY_CONSUME_QUEUE (321).
func TestAdminConfigCodes(t *testing.T) {
	skipExternal(t)
	clk := minirocketmq.NewManualClock(time.Now())
	b := runBroker(t, minirocketmq.WithClock(clk), minirocketmq.WithDelayLevels(time.Second, time.Minute))
	conn := dial(t, b.BrokerAddr())
	ns := dial(t, b.NameServerAddr())

	cfg := invoke(t, conn, remoting.NewRequest(remoting.GetBrokerConfig))
	if cfg.Code != remoting.Success || !strings.Contains(string(cfg.Body), "brokerName=broker-a\n") ||
		!strings.Contains(string(cfg.Body), "messageDelayLevel=1s 1m\n") || !strings.Contains(cfg.Get("version"), `"counter"`) {
		t.Fatalf("broker config: %d %s (version %s)", cfg.Code, cfg.Body, cfg.Get("version"))
	}
	same := remoting.NewRequest(remoting.UpdateBrokerConfig)
	same.Body = []byte("brokerName=broker-a\nautoCreateTopicEnable=true\n")
	if resp := invoke(t, conn, same); resp.Code != remoting.Success {
		t.Fatalf("update with the current values: %d %s", resp.Code, resp.Remark)
	}
	change := remoting.NewRequest(remoting.UpdateBrokerConfig)
	change.Body = []byte("autoCreateTopicEnable=false\nbrokerName=broker-a\n")
	if resp := invoke(t, conn, change); resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, "autoCreateTopicEnable=false") || strings.Contains(resp.Remark, "brokerName") {
		t.Fatalf("update of a value: %d %s", resp.Code, resp.Remark)
	}

	if resp := invoke(t, ns, remoting.NewRequest(remoting.GetNamesrvConfig)); resp.Code != remoting.Success || !strings.Contains(string(resp.Body), "serverChannelMaxIdleTimeSeconds=120\n") {
		t.Fatalf("name server config: %d %s", resp.Code, resp.Body)
	}
	if resp := invoke(t, ns, remoting.NewRequest(remoting.GetKVConfig, "namespace", "ORDER_TOPIC_CONFIG", "key", "T")); resp.Code != remoting.QueryNotFound ||
		resp.Remark != "No config item, Namespace: ORDER_TOPIC_CONFIG Key: T" {
		t.Fatalf("kv config: %d %s", resp.Code, resp.Remark)
	}
	if err := b.CreateTopic("ConfT", 2); err != nil {
		t.Fatal(err)
	}
	var tl struct {
		TopicList  []string
		BrokerAddr string
	}
	unmarshalAdmin(t, invoke(t, ns, remoting.NewRequest(remoting.GetTopicsByCluster, "cluster", minirocketmq.DefaultClusterName)), &tl)
	if !strings.Contains(fmt.Sprint(tl.TopicList), "ConfT") {
		t.Fatalf("topics of the cluster: %v", tl.TopicList)
	}
	unmarshalAdmin(t, invoke(t, ns, remoting.NewRequest(remoting.GetTopicsByCluster, "cluster", "Other")), &tl)
	if len(tl.TopicList) != 0 {
		t.Fatalf("topics of another cluster: %v", tl.TopicList)
	}
	unmarshalAdmin(t, invoke(t, ns, remoting.NewRequest(remoting.GetSystemTopicListFromNS)), &tl)
	if fmt.Sprint(tl.TopicList) != "[DefaultCluster broker-a]" || tl.BrokerAddr != b.AdvertisedAddr() {
		t.Fatalf("system topics %+v", tl)
	}

	invoke(t, conn, remoting.NewRequest(remoting.UpdateConsumerOffset, "consumerGroup", "ConfG", "topic", "ConfT", "queueId", "1", "commitOffset", "7"))
	var co struct{ OffsetTable map[string]map[string]int64 }
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetAllConsumerOffset)), &co)
	if co.OffsetTable["ConfT@ConfG"]["1"] != 7 {
		t.Fatalf("all consumer offsets %v", co.OffsetTable)
	}
	sendV1(t, conn, "ConfT", "later", string(message.AppendProperty(nil, message.PropertyDelayTimeLevel, "1")), 0)
	clk.Advance(2 * time.Second)
	waitFor(t, 10*time.Second, "the delayed message", func() bool { return b.MaxOffset("ConfT", 0) == 1 })
	var do struct{ OffsetTable map[string]int64 }
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.GetAllDelayOffset)), &do)
	if do.OffsetTable["1"] != 1 {
		t.Fatalf("delay offsets %v", do.OffsetTable)
	}

	for range 3 {
		sendV1(t, conn, "ConfT", "indexed", string(message.AppendProperty(nil, message.PropertyTags, "TagQ")), 0)
	}
	var cq struct {
		MaxQueueIndex, MinQueueIndex int64
		QueueData                    []struct {
			PhysicOffset, TagsCode int64
			PhysicSize             int
		}
	}
	unmarshalAdmin(t, invoke(t, conn, remoting.NewRequest(remoting.QueryConsumeQueue, "topic", "ConfT", "queueId", "0", "index", "1", "count", "2")), &cq)
	if cq.MaxQueueIndex != 4 || len(cq.QueueData) != 2 || cq.QueueData[0].TagsCode != message.TagsHashCode("TagQ") || cq.QueueData[1].PhysicOffset <= cq.QueueData[0].PhysicOffset {
		t.Fatalf("consume queue %+v", cq)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.QueryConsumeQueue, "topic", "NoSuchT", "queueId", "0", "index", "0", "count", "1")); resp.Code != remoting.SystemError {
		t.Fatalf("unknown queue: %d", resp.Code)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.QueryConsumeQueue, "topic", "ConfT", "queueId", "0", "index", "99", "count", "1")); resp.Code != remoting.Success || resp.Remark != "Index 99 of 0@ConfT is not exist!" {
		t.Fatalf("index past the queue: %d %q", resp.Code, resp.Remark)
	}
}

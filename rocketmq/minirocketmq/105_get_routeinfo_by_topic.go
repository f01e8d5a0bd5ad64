package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ROUTEINFO_BY_TOPIC (105), name server: the route of a topic, asked
// by every client on start and every 30 s per topic.
//
// Honoured: topic. Body TopicRouteData as standard, compact JSON (what a
// 4.9.4 name server sends to clients that accept it; the Go client splits
// brokerAddrs on ',' and ':' so any whitespace would break it):
// {"brokerDatas":[{"brokerAddrs":{"0":"<advertised>"},"brokerName":...,
// "cluster":...}],"filterServerTable":{},"queueDatas":[{"brokerName":...,
// "perm":...,"readQueueNums":...,"topicSysFlag":...,"writeQueueNums":...}]}.
// TBW102 is served while auto-creation is on, which is how producers find
// a broker for a topic that does not exist yet. %RETRY% and %DLQ% topics
// that do not exist yet are routed as they will be created, without
// creating them (retry.go), so consumers route them from the start. A
// topic dropped from the name server by DELETE_TOPIC_IN_NAMESRV has no
// route until the broker registers its topics again (routes.go). Any
// other unknown topic → TOPIC_NOT_EXIST with the real remark. Not honoured:
// acceptStandardJsonOnly (always standard), orderTopicConf (never set).

type queueData struct {
	BrokerName     string `json:"brokerName"`
	Perm           int    `json:"perm"`
	ReadQueueNums  int    `json:"readQueueNums"`
	TopicSysFlag   int    `json:"topicSysFlag"`
	WriteQueueNums int    `json:"writeQueueNums"`
}

type brokerData struct {
	BrokerAddrs map[string]string `json:"brokerAddrs"`
	BrokerName  string            `json:"brokerName"`
	Cluster     string            `json:"cluster"`
}

type topicRouteData struct {
	BrokerDatas       []brokerData        `json:"brokerDatas"`
	FilterServerTable map[string][]string `json:"filterServerTable"`
	QueueDatas        []queueData         `json:"queueDatas"`
}

func (b *Broker) brokerData() brokerData {
	return brokerData{BrokerAddrs: map[string]string{"0": b.advertised}, BrokerName: b.cfg.brokerName, Cluster: b.cfg.clusterName}
}

// handleGetRouteInfoByTopic serves code 105.
func (b *Broker) handleGetRouteInfoByTopic(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	tc := b.routedTopic(topic)
	if tc == nil && b.topics.get(topic) == nil {
		tc = b.groupTopicConfig(topic)
	}
	if tc == nil {
		return remoting.NewResponse(req, remoting.TopicNotExist, remarkf(msgNoTopicRoute, topic)), nil
	}
	body, err := json.Marshal(topicRouteData{
		BrokerDatas:       []brokerData{b.brokerData()},
		FilterServerTable: map[string][]string{},
		QueueDatas: []queueData{{
			BrokerName:     b.cfg.brokerName,
			Perm:           tc.Perm,
			ReadQueueNums:  tc.ReadQueueNums,
			TopicSysFlag:   tc.TopicSysFlag,
			WriteQueueNums: tc.WriteQueueNums,
		}},
	})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

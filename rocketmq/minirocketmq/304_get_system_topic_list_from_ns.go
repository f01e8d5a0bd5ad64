package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_SYSTEM_TOPIC_LIST_FROM_NS (304), name server: the names the real name
// server counts as system topics, its cluster and broker names, with one
// broker's address (the dashboard hides them). Body TopicList
// {"brokerAddr":advertised,"topicList":[cluster, broker]}.

// handleGetSystemTopicListFromNS serves code 304.
func (b *Broker) handleGetSystemTopicListFromNS(c *conn, req *remoting.Command) (*remoting.Command, error) {
	return jsonResponse(req, struct {
		BrokerAddr string   `json:"brokerAddr"`
		TopicList  []string `json:"topicList"`
	}{b.advertised, []string{b.cfg.clusterName, b.cfg.brokerName}}), nil
}

package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_TOPICS_BY_CLUSTER (224), name server: the topics of a cluster's
// brokers (mqadmin topicList -c, the dashboard). Honoured: cluster. Body
// TopicList {"topicList":[...]}: every routed topic for this broker's
// cluster, none for another name.

// handleGetTopicsByCluster serves code 224.
func (b *Broker) handleGetTopicsByCluster(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	cluster := h.str("cluster", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	names := []string{}
	if cluster == b.cfg.clusterName {
		names = b.routedTopicNames()
	}
	return jsonResponse(req, struct {
		TopicList []string `json:"topicList"`
	}{names}), nil
}

// routedTopicNames returns the topics the name server routes, sorted.
func (b *Broker) routedTopicNames() []string {
	topics, _ := b.topics.snapshot()
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		if !b.routes.hidden(t) {
			names = append(names, t.TopicName)
		}
	}
	return names
}

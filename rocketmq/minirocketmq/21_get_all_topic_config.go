package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_TOPIC_CONFIG (21): every topic config of the broker, body
// TopicConfigSerializeWrapper {"topicConfigTable":{name:config},
// "dataVersion":{"timestamp","counter"}} (mqadmin, the console).

// handleGetAllTopicConfig serves code 21.
func (b *Broker) handleGetAllTopicConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	topics, version := b.topics.snapshot()
	if len(topics) == 0 {
		return remoting.NewResponse(req, remoting.SystemError, msgNoTopicInBroker), nil
	}
	table := make(map[string]*TopicConfig, len(topics))
	for _, t := range topics {
		table[t.TopicName] = t
	}
	body, err := json.Marshal(struct {
		TopicConfigTable map[string]*TopicConfig `json:"topicConfigTable"`
		DataVersion      dataVersion             `json:"dataVersion"`
	}{table, version})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

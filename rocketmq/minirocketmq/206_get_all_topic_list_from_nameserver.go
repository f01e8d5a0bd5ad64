package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), name server: every topic name
// (the Go admin's FetchAllTopicList). Body TopicList {"topicList":[...]},
// sorted, system topics included as on the real name server.

// handleGetAllTopicListFromNameServer serves code 206.
func (b *Broker) handleGetAllTopicListFromNameServer(c *conn, req *remoting.Command) (*remoting.Command, error) {
	topics, _ := b.topics.snapshot()
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.TopicName
	}
	body, err := json.Marshal(struct {
		TopicList []string `json:"topicList"`
	}{names})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

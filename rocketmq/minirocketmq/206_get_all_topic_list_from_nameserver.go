package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), name server: every topic name
// (the Go admin's FetchAllTopicList). Body TopicList {"topicList":[...]},
// sorted, system topics included as on the real name server, topics
// dropped by DELETE_TOPIC_IN_NAMESRV left out until they are registered
// again.

// handleGetAllTopicListFromNameServer serves code 206.
func (b *Broker) handleGetAllTopicListFromNameServer(c *conn, req *remoting.Command) (*remoting.Command, error) {
	body, err := json.Marshal(struct {
		TopicList []string `json:"topicList"`
	}{b.routedTopicNames()})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// DELETE_TOPIC_IN_NAMESRV (216), name server: drop a topic's route. Name
// server and broker share one topic table here, so this removes the topic
// from the broker too (a real name server would drop only the route, and
// the broker would register it again within 30 s unless 215 was sent as
// well, which is what the admin tools do). Honoured: topic.

// handleDeleteTopicInNameSrv serves code 216.
func (b *Broker) handleDeleteTopicInNameSrv(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	if isSystemTopic(topic) {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgTopicConflictsSystem, topic)), nil
	}
	if err := b.deleteTopic(topic); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

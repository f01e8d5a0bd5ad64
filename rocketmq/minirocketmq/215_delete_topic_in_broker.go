package minirocketmq

import (
	"errors"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// DELETE_TOPIC_IN_BROKER (215): drop a topic's config, its messages and the
// groups' offsets on it (the Go admin's DeleteTopic sends this, then 216 to
// the name server). Honoured: topic (validated; system topics refused with
// the real remark). Deleting an unknown topic succeeds, as on the real
// broker. Pulls held on the topic are answered at their hold time.

// handleDeleteTopicInBroker serves code 215.
func (b *Broker) handleDeleteTopicInBroker(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	if remark := validateTopic(topic); remark != "" {
		return remoting.NewResponse(req, remoting.SystemError, remark), nil
	}
	if isSystemTopic(topic) {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgTopicConflictsSystem, topic)), nil
	}
	if err := b.deleteTopic(topic); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	b.log.Logf(LogLevelInfo, "topic %s deleted by %s", topic, c.RemoteAddr())
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

// deleteTopic removes a topic everywhere the broker keeps it.
func (b *Broker) deleteTopic(topic string) error {
	b.topics.delete(topic)
	b.offsets.deleteTopic(topic)
	b.stats.deleteTopic(topic)
	return errors.Join(b.store.DeleteTopic(topic), b.persistConfigs())
}

package minirocketmq

import (
	"sort"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// QUERY_TOPIC_CONSUME_BY_WHO (300): the consumer groups of a topic (mqadmin
// topicList -c, statsAll, queryMsgById's message track).
//
// Honoured: topic. Body GroupList {"groupList":[...]}: the groups whose
// live members subscribe the topic, plus the groups that committed
// offsets of it, sorted (the real broker: a HashSet).

// handleQueryTopicConsumeByWho serves code 300.
func (b *Broker) handleQueryTopicConsumeByWho(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	return jsonResponse(req, struct {
		GroupList []string `json:"groupList"`
	}{b.topicConsumers(topic)}), nil
}

// topicConsumers returns the consumer groups of a topic, sorted.
func (b *Broker) topicConsumers(topic string) []string {
	seen := make(map[string]bool)
	out := []string{}
	for _, list := range [][]string{b.clients.groupsSubscribing(topic), b.offsets.groupsOfTopic(topic)} {
		for _, g := range list {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	sort.Strings(out)
	return out
}

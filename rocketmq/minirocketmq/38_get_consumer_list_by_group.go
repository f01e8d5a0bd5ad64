package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_CONSUMER_LIST_BY_GROUP (38): the client ids of a group's live members,
// asked by every client before each rebalance. Body
// {"consumerIdList":[...]} (sorted). No member → SYSTEM_ERROR "no consumer
// for this group, <group>" without a body, as the real broker.

// handleGetConsumerListByGroup serves code 38.
func (b *Broker) handleGetConsumerListByGroup(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	ids := b.clients.consumerIDs(group)
	if len(ids) == 0 {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgNoConsumerForGroup, group)), nil
	}
	body, err := json.Marshal(struct {
		ConsumerIDList []string `json:"consumerIdList"`
	}{ids})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

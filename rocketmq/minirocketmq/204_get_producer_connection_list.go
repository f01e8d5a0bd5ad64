package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_PRODUCER_CONNECTION_LIST (204): a producer group's live connections
// (mqadmin producerConnection).
//
// Honoured: producerGroup; a group without a connection → SYSTEM_ERROR
// "the producer group[G] not exist", as the real broker. Body
// ProducerConnection {"connectionSet":[{"clientAddr","clientId",
// "language","version"}]}. A producer belongs to its group from its
// first heartbeat (or, transactional, its first half message).

// handleGetProducerConnectionList serves code 204.
func (b *Broker) handleGetProducerConnectionList(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("producerGroup", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	conns, ok := b.clients.producerConnections(group)
	if !ok {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgProducerGroupNotExist, group)), nil
	}
	return jsonResponse(req, struct {
		ConnectionSet []connectionInfo `json:"connectionSet"`
	}{conns}), nil
}

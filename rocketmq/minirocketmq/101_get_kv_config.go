package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_KV_CONFIG (101), name server: one value of the name server's KV
// configuration (clients read ORDER_TOPIC_CONFIG, NAMESPACE_ORDER_TOPIC_CONFIG
// and the like). This name server keeps no KV configuration (PUT_KV_CONFIG,
// 100, is not served): every key → QUERY_NOT_FOUND "No config item,
// Namespace: N Key: K", what the real one answers for a key it lacks, and
// what clients treat as "not set".

// handleGetKVConfig serves code 101.
func (b *Broker) handleGetKVConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	namespace := h.str("namespace", true)
	key := h.str("key", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	return remoting.NewResponse(req, remoting.QueryNotFound, remarkf(msgKVConfigNotFound, namespace, key)), nil
}

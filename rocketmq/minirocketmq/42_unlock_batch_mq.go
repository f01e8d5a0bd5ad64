package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// UNLOCK_BATCH_MQ (42): an orderly consumer releases queues it no longer
// consumes (after a rebalance took them away, and on shutdown).
//
// Honoured: body {consumerGroup, clientId, mqSet[...]} as for LOCK_BATCH_MQ;
// queues held by another client are left alone. When a released queue was
// refused to another member meanwhile, the group's members are told to
// rebalance (NOTIFY_CONSUMER_IDS_CHANGED), so that member takes it at once
// (locks.go). Answer: SUCCESS (the Go
// client often sends it as its unmarked "oneway" and ignores the answer).
// An undecodable body → SYSTEM_ERROR.

// handleUnlockBatchMQ serves code 42.
func (b *Broker) handleUnlockBatchMQ(c *conn, req *remoting.Command) (*remoting.Command, error) {
	var body lockBatchBody
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, "decode unlock batch body: "+err.Error()), nil
	}
	b.sem.locks.unlockBatch(body.keys(), body.ClientID)
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// UNREGISTER_CLIENT (35): a Java client leaving on shutdown (the Go client
// never sends it; its groups are dropped when the connection closes or
// stops heartbeating). Honoured: producerGroup and consumerGroup (either may
// be absent); remaining members of the consumer group are notified.
// clientID is not needed: the connection identifies the client.

// handleUnregisterClient serves code 35.
func (b *Broker) handleUnregisterClient(c *conn, req *remoting.Command) (*remoting.Command, error) {
	b.notifyConsumerIDsChanged(b.clients.unregister(c, req.Get("producerGroup"), req.Get("consumerGroup")))
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

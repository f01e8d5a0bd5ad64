package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// GET_CONSUMER_CONNECTION_LIST (203): a consumer group's live members and
// subscriptions (mqadmin consumerConnection, consumerProgress without a
// group, the dashboard's client list).
//
// Honoured: consumerGroup; a group without a connected member →
// CONSUMER_NOT_ONLINE "the consumer group[G] not online", as the real
// broker. Body ConsumerConnection: {"connectionSet":[{"clientAddr",
// "clientId","language","version"}],"consumeFromWhere","consumeType",
// "messageModel","subscriptionTable":{topic:SubscriptionData}}.

// handleGetConsumerConnectionList serves code 203.
func (b *Broker) handleGetConsumerConnectionList(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	g, ok := b.clients.consumerGroupSnapshot(group)
	if !ok {
		return remoting.NewResponse(req, remoting.ConsumerNotOnline, remarkf(msgConsumerGroupNotOnline, group)), nil
	}
	subs := make(map[string]subscriptionData, len(g.subs))
	for _, s := range g.subs {
		subs[s.Topic] = s.data()
	}
	return jsonResponse(req, struct {
		ConnectionSet     []connectionInfo            `json:"connectionSet"`
		ConsumeFromWhere  string                      `json:"consumeFromWhere"`
		ConsumeType       string                      `json:"consumeType"`
		MessageModel      string                      `json:"messageModel"`
		SubscriptionTable map[string]subscriptionData `json:"subscriptionTable"`
	}{g.members, g.consumeFromWhere, g.consumeType, g.messageModel, subs}), nil
}

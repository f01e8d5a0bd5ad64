package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// DELETE_TOPIC_IN_NAMESRV (216), name server: drop a topic's route, as the
// real name server does (RouteInfoManager.deleteTopic). The topic, its
// messages and its offsets stay on the broker, and the route comes back
// when the broker registers its topics again: within 30 s, or at once when
// the topic is created or updated (routes.go). The admin tools delete a
// topic with DELETE_TOPIC_IN_BROKER (215) first, then this. With WithACL
// it needs the signature of an admin account (acl.go). Honoured: topic.
// An unknown topic succeeds and changes nothing, as on the real name
// server.

// handleDeleteTopicInNameSrv serves code 216.
func (b *Broker) handleDeleteTopicInNameSrv(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	if tc := b.topics.get(topic); tc != nil {
		b.routes.drop(tc)
		b.log.Logf(LogLevelInfo, "route of topic %s dropped from the name server by %s", topic, c.RemoteAddr())
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

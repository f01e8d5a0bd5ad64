package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// DELETE_SUBSCRIPTIONGROUP (207): an admin tool (mqadmin deleteSubGroup,
// the dashboard) removes a consumer group's broker-side settings; the tool
// then deletes its %RETRY% and %DLQ% topics with DELETE_TOPIC_IN_BROKER and
// DELETE_TOPIC_IN_NAMESRV. With WithACL it needs an admin account.
//
// Honoured: groupName, removeOffset (also forget the group's committed
// offsets). Deleting an unknown group succeeds, as on the real broker. A
// group whose members are still connected gets its default settings back
// at their next heartbeat (autoCreateSubscriptionGroup).

// handleDeleteSubscriptionGroup serves code 207.
func (b *Broker) handleDeleteSubscriptionGroup(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("groupName", true)
	removeOffset := h.bool("removeOffset")
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	existed := b.groups.delete(group)
	if removeOffset {
		b.offsets.deleteGroup(group)
	}
	b.stats.deleteGroup(group)
	if err := b.persistConfigs(); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgPersistFailed, err)), nil
	}
	b.log.Logf(LogLevelInfo, "subscription group %s deleted by %s (existed: %t, offsets removed: %t)", group, c.RemoteAddr(), existed, removeOffset)
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

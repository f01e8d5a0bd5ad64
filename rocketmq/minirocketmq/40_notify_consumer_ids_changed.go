package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// NOTIFY_CONSUMER_IDS_CHANGED (40), broker → client: sent oneway with ext
// consumerGroup to every member of a consumer group when a member joins
// (first heartbeat), leaves (connection closed, expired, UNREGISTER_CLIENT)
// or the group's topics change, so clients rebalance at once instead of at
// their next 20 s tick. Suppressed for groups whose
// notifyConsumerIdsChangedEnable is off. Clients do not answer it.

// notifyConsumerIDsChanged notifies every member of each group. Sending
// never blocks (Conn.Send queues). A closing broker notifies nobody: the
// members leave because the broker goes, and a rebalance at that moment only
// has the clients retry against a broker that is gone.
func (b *Broker) notifyConsumerIDsChanged(groups []string) {
	select {
	case <-b.done:
		return
	default:
	}
	for _, g := range groups {
		if cfg := b.groups.get(g); cfg != nil && !cfg.NotifyConsumerIDsChangedEnable {
			continue
		}
		for _, c := range b.clients.memberConns(g) {
			req := remoting.NewRequest(remoting.NotifyConsumerIDsChanged, "consumerGroup", g)
			if err := c.SendOneway(req); err != nil {
				b.log.Logf(LogLevelDebug, "notify %s of group %s change: %v", c.RemoteAddr(), g, err)
			}
		}
	}
}

package minirocketmq

import (
	"encoding/json"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200): an admin tool (mqadmin
// updateSubGroup, the dashboard) creates or replaces a consumer group's
// broker-side settings. The Go admin API has no call for it.
//
// Honoured: body SubscriptionGroupConfig (JSON: groupName, consumeEnable,
// consumeFromMinEnable, consumeBroadcastEnable, retryQueueNums,
// retryMaxTimes, brokerId, whichBrokerWhenConsumeSlowly,
// notifyConsumerIdsChangedEnable); fields left out keep their defaults.
// retryMaxTimes is the limit of redeliveries for clients that do not send
// their own maxReconsumeTimes; retryQueueNums the queue count of the
// group's retry topic (0: failed messages are dropped, as on the real
// broker; at most MaxQueueNums). An undecodable body, an empty group name
// or a retry queue count out of range → SYSTEM_ERROR.
// Not honoured: consumeEnable, consumeFromMinEnable,
// consumeBroadcastEnable, brokerId, whichBrokerWhenConsumeSlowly (one
// broker, always enabled).

// handleUpdateAndCreateSubscriptionGroup serves code 200.
func (b *Broker) handleUpdateAndCreateSubscriptionGroup(c *conn, req *remoting.Command) (*remoting.Command, error) {
	cfg := defaultGroupConfig("")
	if err := json.Unmarshal(req.Body, cfg); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, "decode subscription group config: "+err.Error()), nil
	}
	if strings.TrimSpace(cfg.GroupName) == "" {
		return remoting.NewResponse(req, remoting.SystemError, "the subscription group name is empty"), nil
	}
	if cfg.RetryQueueNums < 0 || cfg.RetryQueueNums > MaxQueueNums {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgRetryQueueNumsIllegal, cfg.GroupName, cfg.RetryQueueNums, MaxQueueNums)), nil
	}
	b.groups.put(cfg)
	b.log.Logf(LogLevelInfo, "subscription group %s updated by %s: retryMaxTimes %d, retryQueueNums %d", cfg.GroupName, c.RemoteAddr(), cfg.RetryMaxTimes, cfg.RetryQueueNums)
	if err := b.persistConfigs(); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgPersistFailed, err)), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// HEART_BEAT (34): a client announces its id and its producer and consumer
// groups; sent on start and every 30 s to every broker in its routes.
//
// Honoured: body HeartbeatData {clientID, producerDataSet[{groupName}],
// consumerDataSet[{groupName, consumeType, messageModel, consumeFromWhere,
// subscriptionDataSet[{topic, subString, expressionType, subVersion}]}]}.
// For each consumer group, like the real broker: the subscription group is
// created with default settings, %RETRY%<group> is created (1 queue, read +
// write), the connection joins the group and its subscriptions are merged
// (a newer subVersion replaces one); when a member joined or a topic was
// added or removed, every member gets NOTIFY_CONSUMER_IDS_CHANGED. The
// connection is remembered as a member of each producer group. Tag codes
// (codeSet) are recomputed from the tags rather than trusted: Go and Java
// clients encode them differently. unitMode and classFilterMode are
// ignored. Answer: SUCCESS, no body; an undecodable body → SYSTEM_ERROR.

type heartbeatData struct {
	ClientID        string `json:"clientID"`
	ProducerDataSet []struct {
		GroupName string `json:"groupName"`
	} `json:"producerDataSet"`
	ConsumerDataSet []struct {
		GroupName           string `json:"groupName"`
		ConsumeType         string `json:"consumeType"`
		MessageModel        string `json:"messageModel"`
		ConsumeFromWhere    string `json:"consumeFromWhere"`
		SubscriptionDataSet []struct {
			Topic          string `json:"topic"`
			SubString      string `json:"subString"`
			SubVersion     int64  `json:"subVersion"`
			ExpressionType string `json:"expressionType"`
		} `json:"subscriptionDataSet"`
	} `json:"consumerDataSet"`
}

// handleHeartBeat serves code 34.
func (b *Broker) handleHeartBeat(c *conn, req *remoting.Command) (*remoting.Command, error) {
	var hb heartbeatData
	if err := json.Unmarshal(req.Body, &hb); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgHeartbeatDecode, err)), nil
	}
	producers := make([]string, 0, len(hb.ProducerDataSet))
	for _, p := range hb.ProducerDataSet {
		producers = append(producers, p.GroupName)
	}
	consumers := make([]consumerRegistration, 0, len(hb.ConsumerDataSet))
	for _, cd := range hb.ConsumerDataSet {
		gc := b.groups.getOrCreate(cd.GroupName)
		if gc.RetryQueueNums > 0 {
			b.createSystemGroupTopic(RetryTopic(cd.GroupName), gc.RetryQueueNums)
		}
		reg := consumerRegistration{
			group:            cd.GroupName,
			consumeType:      cd.ConsumeType,
			messageModel:     cd.MessageModel,
			consumeFromWhere: cd.ConsumeFromWhere,
		}
		for _, sd := range cd.SubscriptionDataSet {
			s, remark := b.newSubscription(sd.Topic, sd.SubString, sd.ExpressionType, sd.SubVersion)
			if s == nil {
				// Keep the client registered; its pulls get the error.
				b.log.Logf(LogLevelWarn, "heartbeat from %s: group %s topic %s: %s", hb.ClientID, cd.GroupName, sd.Topic, remark)
				continue
			}
			if s.sqlErr != nil {
				b.log.Logf(LogLevelWarn, "heartbeat from %s: group %s topic %s: SQL92 expression %q: %v; its pulls are refused", hb.ClientID, cd.GroupName, sd.Topic, sd.SubString, s.sqlErr)
			}
			reg.subs = append(reg.subs, s)
		}
		consumers = append(consumers, reg)
	}
	changed := b.clients.heartbeat(c, hb.ClientID, req.Language, req.Version, producers, consumers, b.nowReal())
	b.notifyConsumerIDsChanged(changed)
	if len(hb.ConsumerDataSet) > 0 {
		b.persistConfigsOrLog() // new groups and retry topics
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

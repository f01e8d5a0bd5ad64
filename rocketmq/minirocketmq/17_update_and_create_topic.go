package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// UPDATE_AND_CREATE_TOPIC (17): create or replace a topic config (the Go
// admin's CreateTopic, mqadmin updateTopic). The new config is in the name
// server's routes at once (one process, one table).
//
// Honoured: topic (validated; system topics refused, as the real broker
// does), readQueueNums, writeQueueNums (at most MaxQueueNums, 1,024; the
// real broker takes any count), perm, topicFilterType, topicSysFlag,
// order. Not honoured: defaultTopic (unused by the real broker too). With a
// data directory the topic table is written (and fsynced) before the
// answer, so the topic survives a crash right after; a failed write →
// SYSTEM_ERROR (the change is in force and written again later).

// handleUpdateAndCreateTopic serves code 17. The 5.x field "attributes"
// ("+message.type=FIFO,..." sets, "-key" removes) applies to the topic's
// existing attributes (topic_attributes.go).
func (b *Broker) handleUpdateAndCreateTopic(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	read := h.int32("readQueueNums", true)
	write := h.int32("writeQueueNums", true)
	perm := h.int32("perm", true)
	filterType := h.str("topicFilterType", true)
	sysFlag := h.optInt32("topicSysFlag", 0)
	order := h.bool("order")
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	if remark := validateTopic(topic); remark != "" {
		return remoting.NewResponse(req, remoting.SystemError, remark), nil
	}
	if isSystemTopic(topic) || topic == b.cfg.clusterName || topic == b.cfg.brokerName {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgTopicConflictsSystem, topic)), nil
	}
	if read < 0 || write < 0 {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgBadField, "readQueueNums", itoa(int64(read)))), nil
	}
	if read > MaxQueueNums || write > MaxQueueNums {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgQueueNumsTooLarge, topic, read, write, MaxQueueNums)), nil
	}
	b.topics.put(&TopicConfig{
		TopicName:       topic,
		ReadQueueNums:   int(read),
		WriteQueueNums:  int(write),
		Perm:            int(perm),
		TopicFilterType: filterType,
		TopicSysFlag:    int(sysFlag),
		Order:           order,
		Attributes:      b.topicAttributes(topic, req),
	})
	b.log.Logf(LogLevelInfo, "topic %s created or updated by %s: %d/%d queues, perm %d", topic, c.RemoteAddr(), read, write, perm)
	if err := b.persistConfigs(); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgPersistFailed, err)), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

package minirocketmq

import (
	"errors"
	"fmt"
)

// Remarks sent with error responses, copied from RocketMQ 4.9.4 so that the
// text a client surfaces ("CODE: 13, DESC: ...") reads the same as with the
// real broker. Formats take the arguments named in their comment.
const (
	faqSuffix = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."

	// request code
	msgRequestCodeNotSupported = " request type %d not supported"
	// field name (RemotingCommand.decodeCommandCustomHeader)
	msgMissingField = "the custom field <%s> is null"
	// field name, value
	msgBadField = "the custom field <%s> has a malformed value %q"

	msgTopicBlank        = "The specified topic is blank."
	msgTopicIllegalChars = "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
	msgTopicTooLong      = "The specified topic is longer than topic max length."
	// topic
	msgTopicConflictsSystem = "The topic[%s] is conflict with system topic."
	// topic
	msgSendForbiddenTopic = "Sending message to topic[%s] is forbidden."
	// topic
	msgTopicNotExistApply = "topic[%s] not exist, apply first please!" + faqSuffix
	// topic (name server)
	msgNoTopicRoute = "No topic route info in name server for the topic: %s" + faqSuffix
	// queue id, topic config, producer address
	msgSendQueueIDIllegal = "request queueId[%d] is illegal, %s Producer: %s"
	// max message size
	msgMessageIllegal = "the message is illegal, maybe msg body or properties length not matched. msg body length limit %dB, msg properties length limit 32KB."
	// timerMaxDelaySec in ms (5.x SendMessageProcessor, WHEEL_TIMER_MSG_ILLEGAL)
	msgTimerIllegal = "timer message illegal, the delay time should not be bigger than the max delay %dms; or if set del msg, the delay time should be bigger than the current time"
	// topic length
	msgTopicLengthTooLong = "message topic length too long %d"
	// retry topic
	msgBatchRetryTopic  = "batch request does not support retry group %s"
	msgBatchTransaction = "batch message does not support transaction or delay level"
	msgEmptyBatch       = "the batch body holds no message"

	// topic
	msgPullForbidden = "the topic[%s] pulling message is forbidden"
	// queue id, topic, read queue nums, consumer address
	msgPullQueueIDIllegal       = "queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d] consumer:[%s]"
	msgSubscriptionGroupMissing = "the consumer's group info not exist"
	msgSubscriptionMissing      = "the consumer's subscription not exist"
	msgSubscriptionNotLatest    = "the consumer's subscription not latest"
	// expression type
	msgFilterTypeUnsupported   = "The broker does not support consumer to filter message by %s"
	msgSubscriptionParseFailed = "parse the consumer's subscription failed"
	msgFilterDataNotExist      = "The broker's consumer filter data is not exist!Your expression may be wrong!"

	// group
	msgNoConsumerForGroup = "no consumer for this group, %s"
	msgOffsetNotFound     = "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first"
	msgQueryNotFound      = "can not find message, maybe time range not correct"
	// commit log offset
	msgViewByOffsetFailed = "can not find message by the offset, %d"
	msgNoTopicInBroker    = "No topic in this broker"
	// error text
	msgHeartbeatDecode = "decode heartbeat body failed: %s"

	// group
	msgSubscriptionGroupNotExist = "subscription group not exist, %s " + faqSuffix
	// commit log offset
	msgLookMessageByOffsetFailed = "look message by offset failed, %d"
	// topic
	msgSystemTopicNotExist = "topic[%s] not exist"
	// topic
	msgTopicSendForbidden = "the topic[%s] sending message is forbidden"

	msgFindPreparedFailed   = "Find prepared transaction message failed"
	msgProducerGroupWrong   = "The producer group wrong"
	msgTranStateOffsetWrong = "The transaction state table offset wrong"

	msgReplyToClientMissing = "reply message properties[REPLY_TO_CLIENT] is null"
	// client id
	msgReplyChannelNotFound = "push reply message fail, channel of <%s> not found."
	// client id (sic: no space before "fail")
	msgReplyPushFailed = "push reply message to %sfail."

	// group, client id
	msgConsumerNotOnline = "The Consumer <%s> <%s> not online"
	// group, client id, error
	msgConsumerTimeout = "consumer <%s> <%s> Timeout: %s"
	// group, client id, error
	msgInvokeConsumerFailed = "invoke consumer <%s> <%s> Exception: %s"
	// topic, read queue nums, write queue nums, limit
	msgQueueNumsTooLarge = "the queue nums of topic[%s] (read %d, write %d) exceed the limit of %d"
	// group, retry queue nums, limit
	msgRetryQueueNumsIllegal = "the retryQueueNums of subscription group[%s] is %d, want 0 to %d"

	// group
	msgConsumerGroupNotOnline = "the consumer group[%s] not online"
	// group
	msgProducerGroupNotExist = "the producer group[%s] not exist"
	// stats name, stats key
	msgStatsNotExist = "The stats <%s> <%s> not exist"
	// topic
	msgResetNoTopic = "[reset-offset] reset offset failed, no topic in this broker. topic=%s"
	// group (sic: "THe")
	msgResetGroupNotExist = "THe consumer group <%s> not exist"
	// group, topic, timestamp
	msgResetConsumerNotOnline = "Consumer not online, so can not reset offset, Group: %s Topic: %s Timestamp: %d"
	// namespace, key
	msgKVConfigNotFound = "No config item, Namespace: %s Key: %s"
	// queue id, topic
	msgConsumeQueueNotExist = "%d@%s is not exist!"
	// index, queue id, topic
	msgConsumeQueueIndexNotExist = "Index %d of %d@%s is not exist!"
	// keys
	msgBrokerConfigReadOnly = "the embedded broker's configuration cannot be changed while it runs (restart it with other options); not applied: %s"

	// error text
	msgPersistFailed = "the change is made but writing it to the data directory failed: %v"

	// error text (SYNC_FLUSH: the message is stored but its fsync failed)
	msgFlushFailed = "flush the message to disk failed: %v"
)

func remarkf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// ErrClosed is returned by Start after Close, and by test hooks on a closed
// broker.
var ErrClosed = errors.New("minirocketmq: broker closed")

// errHalfWithoutRealQueue: a half record that does not say where its
// message belongs (not written by this broker).
var errHalfWithoutRealQueue = errors.New("half message has no REAL_TOPIC/REAL_QID")

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("minirocketmq: broker already started")

package minirocketmq

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// CONSUME_MESSAGE_DIRECTLY (309): hand one stored message to a consumer
// client's listener, outside its pulls, and report what the listener said
// (a dead letter re-sent to its group once the bug is fixed, or a message
// tried out by an operator). The broker sends it (broker → client, code
// 309) for Broker.ConsumeMessageDirectly and forwards it for admin tools
// (client → broker, the same code: mqadmin consumeMessage, the dashboard's
// "resend"), with the message read by its offset message id.
//
// Honoured: consumerGroup, clientId, msgId (an offset message id; an
// unknown or malformed one → SYSTEM_ERROR), brokerName (set to ours), the
// rest passed on. Better than the real broker: a message read from
// %DLQ%<group> is handed over with its original topic (RETRY_TOPIC), so a
// Go client finds its listener for it (the real broker passes the record
// as stored, and the Go client answers "the consume callback missing for
// topic: %DLQ%..."). Answer: the client's (SUCCESS, body
// {"order","autoCommit","consumeResult","remark","spentTimeMills"}); not
// online, time-outs as for GET_CONSUMER_RUNNING_INFO.

// ConsumeMessageDirectlyResult is what a consumer's listener made of a
// message handed to it by ConsumeMessageDirectly.
type ConsumeMessageDirectlyResult struct {
	Order      bool `json:"order"`
	AutoCommit bool `json:"autoCommit"`
	// ConsumeResult is the listener's verdict: CR_SUCCESS, CR_LATER,
	// CR_ROLLBACK, CR_COMMIT, CR_THROW_EXCEPTION or CR_RETURN_NULL.
	ConsumeResult   ConsumeResult `json:"consumeResult"`
	Remark          string        `json:"remark"`
	SpentTimeMillis int64         `json:"spentTimeMills"`
}

// ConsumeResult is CMResult: Java clients send its name, Go clients its
// ordinal; both decode to the name.
type ConsumeResult string

var consumeResults = []ConsumeResult{"CR_SUCCESS", "CR_LATER", "CR_ROLLBACK", "CR_COMMIT", "CR_THROW_EXCEPTION", "CR_RETURN_NULL"}

// UnmarshalJSON accepts the name or the ordinal.
func (r *ConsumeResult) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 || n >= len(consumeResults) {
			return fmt.Errorf("consume result %d out of range", n)
		}
		*r = consumeResults[n]
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("consume result %s: %w", b, err)
	}
	*r = ConsumeResult(s)
	return nil
}

// ConsumeMessageDirectly hands the message with offset message id msgID
// (SendResult.OffsetMsgID, MessageExt.OffsetMsgId) to the listener of a
// consumer client of group and returns its verdict. clientID is one of
// ConsumerIDs(group). ctx bounds the wait (at most 10 s).
func (b *Broker) ConsumeMessageDirectly(ctx context.Context, group, clientID, msgID string) (*ConsumeMessageDirectlyResult, error) {
	rec, err := b.directMessage(msgID)
	if err != nil {
		return nil, err
	}
	req := remoting.NewRequest(remoting.ConsumeMessageDirectly,
		"consumerGroup", group, "clientId", clientID, "msgId", msgID, "brokerName", b.cfg.brokerName)
	req.Body = rec
	resp, err := b.callConsumer(ctx, group, clientID, req)
	if err != nil {
		return nil, err
	}
	if resp.Code != remoting.Success {
		return nil, fmt.Errorf("minirocketmq: consume %s directly at %s in %s: code %d: %s", msgID, clientID, group, resp.Code, resp.Remark)
	}
	var res ConsumeMessageDirectlyResult
	if err := json.Unmarshal(resp.Body, &res); err != nil {
		return nil, fmt.Errorf("minirocketmq: consume %s directly at %s in %s: %w", msgID, clientID, group, err)
	}
	return &res, nil
}

// directMessage reads the record of an offset message id, with a dead
// letter's topic set back to its original one.
func (b *Broker) directMessage(msgID string) ([]byte, error) {
	_, off, err := message.ParseOffsetMsgID(msgID)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: consume directly: %w", err)
	}
	rec, err := b.store.Lookup(nil, off)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: consume %s directly: %w", msgID, err)
	}
	m, _, err := message.DecodeRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: consume %s directly: %w", msgID, err)
	}
	if orig, _ := message.Property(m.Properties, message.PropertyRetryTopic); orig != "" && strings.HasPrefix(m.Topic, DLQGroupTopicPrefix) {
		m.Topic = orig
		if message.Validate(m) == nil {
			return message.AppendRecord(nil, m), nil
		}
	}
	return rec, nil
}

// handleConsumeMessageDirectly serves code 309 from admin tools.
func (b *Broker) handleConsumeMessageDirectly(c *conn, req *remoting.Command) (*remoting.Command, error) {
	rec, err := b.directMessage(req.Get("msgId"))
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	return b.forwardToConsumer(c, req, rec, "brokerName", b.cfg.brokerName), nil
}

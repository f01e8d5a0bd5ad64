package minirocketmq

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// CHECK_TRANSACTION_STATE (39), broker → client: asks a producer of a
// transaction's group how its local transaction ended. Sent oneway (the
// clients do not answer it; they send END_TRANSACTION instead) to one live
// connection of the group, by the checker in transactions.go: the one that
// sent the half message while it is connected, else one at random.
//
// Ext: tranStateTableOffset (the half message's queue offset),
// commitLogOffset, msgId and transactionId (both UNIQ_KEY, as the real
// broker), offsetMsgId. Body: the half record, with topic and queue id set
// back to REAL_TOPIC / REAL_QID and TRANSACTION_CHECK_TIMES = this check's
// number. The Go client ignores the request unless the record's PGROUP is
// its own group.

// sendCheckTransactionState sends check number n of h to one of conns.
func (b *Broker) sendCheckTransactionState(conns []*conn, h *halfMessage, n int) error {
	m, err := b.sem.tx.halfRecord(h)
	if err != nil {
		return err
	}
	if topic, ok := message.Property(m.Properties, message.PropertyRealTopic); ok {
		m.Topic = topic
	}
	if v, ok := message.Property(m.Properties, message.PropertyRealQueueID); ok {
		if q, err := strconv.Atoi(v); err == nil {
			m.QueueID = int32(q)
		}
	}
	m.Properties = message.EditProperties(m.Properties, nil, message.PropertyTransactionCheckTimes, strconv.Itoa(n))
	if err := message.Validate(m); err != nil {
		return fmt.Errorf("encode half message at %d: %w", h.commitLogOffset, err)
	}
	uniq, _ := message.Property(m.Properties, message.PropertyUniqueClientMsgIDKey)
	req := remoting.NewRequest(remoting.CheckTransactionState,
		"tranStateTableOffset", itoa(h.queueOffset),
		"commitLogOffset", itoa(h.commitLogOffset),
		"msgId", uniq,
		"transactionId", uniq,
		"offsetMsgId", message.OffsetMsgID(m.StoreHost, h.commitLogOffset))
	req.Body = message.AppendRecord(nil, m)
	c := conns[rand.IntN(len(conns))]
	for _, x := range conns {
		if x == h.sender {
			c = x
		}
	}
	if err := c.SendOneway(req); err != nil {
		return fmt.Errorf("send to %s: %w", c.RemoteAddr(), err)
	}
	b.log.Logf(LogLevelDebug, "transaction %s at %d: check %d sent to %s (group %s)", uniq, h.commitLogOffset, n, c.RemoteAddr(), h.group)
	return nil
}

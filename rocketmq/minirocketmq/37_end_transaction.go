package minirocketmq

import (
	"errors"
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// END_TRANSACTION (37): a producer says how the local transaction of a half
// message ended, after its send or when asked by CHECK_TRANSACTION_STATE
// (EndTransactionProcessor).
//
// Honoured: producerGroup, tranStateTableOffset (the half message's queue
// offset, from the send response), commitLogOffset (from the send
// response's offset message id), commitOrRollback: 8 commits (the message
// is stored in its REAL_TOPIC / REAL_QID queue with TRAN_MSG, REAL_TOPIC
// and REAL_QID removed, commit transaction bits, preparedTransactionOffset
// = the half record's offset; a DELAY is honoured), 12 rolls back
// (nothing is delivered), 0 (unknown) and anything else leaves the
// transaction to the check-back and gets no answer, as on the real broker.
// A commit or rollback of a transaction that is not pending (never
// prepared, already resolved, discarded) → SYSTEM_ERROR "Find prepared
// transaction message failed"; a wrong group or queue offset →
// SYSTEM_ERROR with the real remarks. The Go client does not read the
// answer. Ignored: msgId, transactionId, fromTransactionCheck (logged
// only), bname.

// Values of commitOrRollback (the transaction bits of a system flag).
const (
	endTransactionUnknown  = 0
	endTransactionCommit   = 8
	endTransactionRollback = 12
)

// handleEndTransaction serves code 37.
func (b *Broker) handleEndTransaction(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	group := h.str("producerGroup", true)
	queueOffset := h.int64("tranStateTableOffset", true)
	commitLogOffset := h.int64("commitLogOffset", true)
	what := h.int32("commitOrRollback", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	fromCheck := req.Bool("fromTransactionCheck")
	switch what {
	case endTransactionCommit, endTransactionRollback:
	default:
		if fromCheck {
			b.log.Logf(LogLevelDebug, "transaction at %d: producer %s of group %s says still unknown (%d)", commitLogOffset, c.RemoteAddr(), group, what)
		}
		return nil, nil
	}
	half, remark := b.sem.tx.take(commitLogOffset, queueOffset, group)
	if half == nil {
		return remoting.NewResponse(req, remoting.SystemError, remark), nil
	}
	if what == endTransactionCommit {
		if err := b.commitTransaction(half); err != nil {
			b.sem.tx.add(half) // still pending: the check-back will ask again
			b.log.Logf(LogLevelError, "commit transaction at %d for %s: %v", commitLogOffset, c.RemoteAddr(), err)
			if errors.Is(err, errTimerTooFar) {
				return remoting.NewResponse(req, remoting.MessageIllegal, remarkf(msgTimerIllegal, b.cfg.sem.timerMaxDelay.Milliseconds())), nil
			}
			return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
		}
	}
	if err := b.sem.tx.resolved(half); err != nil {
		b.log.Logf(LogLevelError, "%v", err)
	}
	b.log.Logf(LogLevelDebug, "transaction at %d of group %s: %s (from check: %t)", commitLogOffset, group,
		map[int32]string{endTransactionCommit: "committed", endTransactionRollback: "rolled back"}[what], fromCheck)
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

// commitTransaction stores the message of a half record in its real queue
// (endMessageTransaction).
func (b *Broker) commitTransaction(h *halfMessage) error {
	half, err := b.sem.tx.halfRecord(h)
	if err != nil {
		return err
	}
	topic, _ := message.Property(half.Properties, message.PropertyRealTopic)
	qid, _ := message.Property(half.Properties, message.PropertyRealQueueID)
	queueID, err := strconv.Atoi(qid)
	if topic == "" || err != nil {
		return errHalfWithoutRealQueue
	}
	props := message.EditProperties(half.Properties, []string{
		message.PropertyRealTopic, message.PropertyRealQueueID, message.PropertyTransactionPrepared,
	})
	m := &message.Message{
		Topic:                     topic,
		QueueID:                   int32(queueID),
		Flag:                      half.Flag,
		SysFlag:                   half.SysFlag&^message.TransactionRollbackType | message.TransactionCommitType,
		BornTimestamp:             half.BornTimestamp,
		BornHost:                  half.BornHost,
		StoreHost:                 half.StoreHost,
		ReconsumeTimes:            half.ReconsumeTimes,
		PreparedTransactionOffset: h.commitLogOffset,
		Body:                      half.Body,
		BodyCRC:                   half.BodyCRC,
		Properties:                props,
		TagsCode:                  tagsCode(props),
	}
	return b.storeMessage(m)
}

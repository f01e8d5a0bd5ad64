package rocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq/internal/mqhttp"
)

// Transaction check-backs of DriverTypeAliyun. The HTTP API pushes nothing: a
// transactional producer consumes its topic's half messages (trans=pop, as its group
// id), which the service hands out once their check time has come and again every
// check interval while they stay undecided, and commits or rolls each back by its
// receipt handle. With a TransactionChecker, the driver runs one such checker per topic
// of WithTransactionTopics (from Connect) and per topic it publishes a transaction to
// (from that publish) until Disconnect; the checker's answer commits, rolls back, or
// (unknown) leaves the half message for the next check. Without a checker nothing
// consumes them, and the service discards an undecided transaction after its checks.

// startChecker starts the half-message checker of topic unless one runs.
func (b *AliyunBroker) startChecker(ses *aliyunSession, topic string) {
	ses.mu.Lock()
	defer ses.mu.Unlock()
	if ses.checkers[topic] || !ses.tasks.start() {
		return
	}
	ses.checkers[topic] = true
	go b.checkLoop(ses, topic)
}

// checkLoop consumes topic's half messages and answers each with the checker.
func (b *AliyunBroker) checkLoop(ses *aliyunSession, topic string) {
	defer ses.tasks.done()
	backoff := time.Duration(0)
	for {
		msgs, err := ses.client.Consume(ses.hard, topic, &mqhttp.ConsumeRequest{
			Group: b.set.groupName, Max: mqhttp.MaxBatch, Wait: mqhttp.MaxWait, Trans: mqhttp.TransHalf,
		})
		if ses.hard.Err() != nil {
			return
		}
		if err != nil {
			backoff = aliyunBackoff(backoff)
			b.log.Warnw("msg", "consuming half messages for their check failed; trying again", "topic", topic,
				"group", b.set.groupName, "retryIn", backoff, "error", err)
			if !sleepCtx(ses.hard, backoff) {
				return
			}
			continue
		}
		backoff = 0
		for i := range msgs {
			b.check(ses, topic, &msgs[i])
		}
	}
}

// check asks the TransactionChecker about one half message and ends the transaction
// by its answer.
func (b *AliyunBroker) check(ses *aliyunSession, topic string, m *mqhttp.Message) {
	body, err := mqhttp.DecodeBody(m)
	if err != nil {
		b.log.Errorw("msg", "half message to check has a body that does not decode; left undecided", "topic", topic, "msgId", m.ID, "error", err)
		return
	}
	h := aliyunHeaders(topic, m)
	state := b.runLocal(func() broker.TransactionState {
		return b.set.txChecker(ses.hard, &broker.Message{Headers: h, Body: body, Msg: m})
	}, topic)
	var commit bool
	switch state {
	case broker.TransactionCommit:
		commit = true
	case broker.TransactionRollback:
	default:
		b.log.Infow("msg", "transaction still undecided; the service asks again", "topic", topic, "msgId", m.ID,
			"checks", m.ConsumedTimes, "nextCheck", m.NextConsumeTime)
		return
	}
	if err := b.endTransaction(ses.hard, ses, topic, m.ReceiptHandle, commit); err != nil {
		b.log.Warnw("msg", "ending a checked transaction failed", "topic", topic, "msgId", m.ID, "error", err)
	}
}

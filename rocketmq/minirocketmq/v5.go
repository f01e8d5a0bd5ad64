package minirocketmq

import (
	"errors"
	"net"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// v5State is what the broker keeps for RocketMQ 5 features: the timer of
// timed messages (timer.go), the pop-consumption engine (package pop) and,
// with WithGRPCAddr, the gRPC endpoint (grpc.go). The timer and the engine
// run whether or not the endpoint does: timed messages arrive by remoting
// too.
type v5State struct {
	timers *timerWheel
	pop    *pop.Engine
	grpc   *grpcServer // nil without WithGRPCAddr
}

func (b *Broker) initV5() {
	b.v5.timers = newTimerWheel(b)
	b.v5.pop = pop.New(b.store, popHost{b},
		pop.WithClock(b.clock),
		pop.WithBrokerName(b.cfg.brokerName),
		pop.WithLogf(func(format string, args ...any) { b.log.Logf(LogLevelWarn, format, args...) }),
		pop.WithPanicHandler(func(p any, stack []byte) { b.backgroundPanic("pop: expiry", p, stack) }))
}

// startV5 starts the timer, the engine and, when ln is not nil, the gRPC
// endpoint on ln. Called by Start with b.mu held.
func (b *Broker) startV5(ln net.Listener) {
	b.wg.Add(1)
	go b.v5.timers.run()
	b.v5.pop.Start()
	if ln == nil {
		return
	}
	s := b.newGRPCServer(ln)
	b.v5.grpc = s
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			b.log.Logf(LogLevelError, "gRPC endpoint on %s stopped: %v", s.addr, err)
		}
	}()
	go s.expireLoop()
	b.log.Logf(LogLevelInfo, "gRPC (RocketMQ 5) endpoint listening on %s", s.addr)
}

// stopV5 stops the gRPC endpoint (closing its connections and waiting for
// its handlers) and the engine. Called by Close after b.done is closed.
func (b *Broker) stopV5() {
	b.mu.Lock()
	s := b.v5.grpc
	b.mu.Unlock()
	if s != nil {
		s.srv.Stop()
	}
	b.v5.pop.Close()
}

// GRPCAddr returns the address the gRPC endpoint listens on
// ("127.0.0.1:port" for an unspecified host); empty without WithGRPCAddr
// or before Start. Give it to a RocketMQ 5 client as its endpoint.
func (b *Broker) GRPCAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.v5.grpc == nil {
		return ""
	}
	return b.v5.grpc.addr
}

// GRPCClients returns the gRPC clients the endpoint knows, by client id.
func (b *Broker) GRPCClients() []V5Client {
	b.mu.Lock()
	s := b.v5.grpc
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.clients.list()
}

// PopStats counts what the pop engine holds for a consumer group in a topic
// (broker-side names): deliveries in flight, messages ready to be delivered
// again, FIFO messages waiting behind their group.
func (b *Broker) PopStats(group, topic string) pop.Stats { return b.v5.pop.Pending(group, topic) }

// popGiveBack makes deliveries a client did not get visible again after
// nackInvisible, as the proxy does; via names the endpoint in the log.
func (b *Broker) popGiveBack(via, group, topic string, msgs []*pop.Message) {
	for _, m := range msgs {
		if _, err := b.v5.pop.ChangeInvisibleDuration(group, topic, m.ReceiptHandle, nackInvisible, false); err != nil {
			b.log.Logf(LogLevelDebug, "%s: give back undelivered message of %s: %v", via, topic, err)
		}
	}
}

// readQueueIDs lists the topic's readable queues, 0..ReadQueueNums-1: what
// a pop receive reads.
func (t *TopicConfig) readQueueIDs() []int32 {
	ids := make([]int32, t.ReadQueueNums)
	for i := range ids {
		ids[i] = int32(i)
	}
	return ids
}

// setConsumerOffset commits a group's offset of a queue from outside the
// pop engine (UpdateOffset, UPDATE_CONSUMER_OFFSET, a reset): through the
// engine, which drops what it held for the group in the queue, so that
// receives over gRPC and HTTP go on from the new offset rather than from
// the engine's cursor, and the engine's next commit does not undo it.
func (b *Broker) setConsumerOffset(group, topic string, queueID int32, offset int64) {
	b.v5.pop.SetOffset(group, topic, queueID, offset)
}

// popHost is the pop engine's view of the broker.
type popHost struct{ b *Broker }

func (h popHost) ConsumerOffset(group, topic string, queueID int32) (int64, bool) {
	return h.b.offsets.query(group, topic, queueID)
}

func (h popHost) CommitOffset(group, topic string, queueID int32, offset int64) {
	h.b.offsets.commit(group, topic, queueID, offset)
}

// DeadLetter stores a message the engine gives up on in %DLQ%<group>, as
// the real broker's forwardToDeadLetterQueue: RETRY_TOPIC and
// ORIGIN_MESSAGE_ID as for a remoting dead letter, and the 5.x
// DLQ_ORIGIN_TOPIC and DLQ_ORIGIN_MESSAGE_ID that gRPC consumers of the
// dead-letter queue see as dead_letter_queue.
func (h popHost) DeadLetter(group string, m *message.Message) error {
	set := []string{propertyDLQOriginTopic, m.Topic, propertyDLQOriginMsgID, uniqueKey(m)}
	if _, ok := message.Property(m.Properties, message.PropertyRetryTopic); !ok {
		set = append(set, message.PropertyRetryTopic, m.Topic)
	}
	if v, _ := message.Property(m.Properties, message.PropertyOriginMessageID); v == "" {
		set = append(set, message.PropertyOriginMessageID, message.OffsetMsgID(m.StoreHost, m.CommitLogOffset))
	}
	m.Properties = message.EditProperties(m.Properties, nil, set...)
	if code, remark := h.b.makeDeadLetter(m, group); code != 0 {
		return errors.New(remark)
	}
	m.PreparedTransactionOffset = 0
	return h.b.storeMessage(m)
}

// PopWaiting reports whether a receive is waiting (long polling) for
// messages of topic.
func (b *Broker) PopWaiting(topic string) bool { return b.v5.pop.Waiting(topic) }

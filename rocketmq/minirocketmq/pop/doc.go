// Package pop is pop consumption (RocketMQ 5's receive / ack / change
// invisible duration) over the broker's message store, the engine behind
// the embedded broker's gRPC endpoint and, later, its Aliyun HTTP one. It
// knows nothing of either protocol: it takes requests in Go types and
// returns stored messages with receipt handles.
//
// Use:
//
//	e := pop.New(st, host, pop.WithClock(clk), pop.WithBrokerName("broker-a"))
//	e.Start()
//	defer e.Close()
//	msgs, err := e.Receive(ctx, &pop.ReceiveRequest{Group: "g", Topic: "t",
//		QueueIDs: []int32{0, 1, 2, 3}, MaxMessages: 16,
//		InvisibleDuration: 30 * time.Second, Wait: 20 * time.Second, MaxAttempts: 17})
//	for _, m := range msgs {
//		// process m.Message (m.Attempt is 1 on the first delivery)
//		err = e.Ack("g", "t", m.ReceiptHandle)
//	}
//
// and call e.Notify(topic) whenever a message is stored in topic, so that
// waiting receives wake up.
//
// # Model
//
// Messages stay where they were stored: a (group, topic, queue) has a
// cursor, the first queue offset the group has never looked at, and a
// short list of pending entries below it, kept in queue-offset order:
//
//	waiting   FIFO only: scanned while its message group had a batch in flight
//	inflight  delivered; invisible until its visible time (receive time + invisible duration)
//	ready     visible again: its delivery expired, or its owner went away
//	moving    being written to the dead-letter queue
//
// Every other offset below the cursor is done (acknowledged, dead-lettered,
// or not matching the consumer's filter). Receive delivers ready and waiting
// entries first, oldest first, then new messages from the cursor. Ack
// removes an entry; ChangeInvisibleDuration moves its visible time (and
// gives it a new handle); when the visible time passes, the entry becomes
// ready and is delivered again with its attempt number + 1, unless that
// delivery was its last one (ReceiveRequest.MaxAttempts): then it goes to
// the group's dead-letter queue through Host.DeadLetter.
//
// FIFO (ReceiveRequest.FIFO), as the real broker's orderly pop looks to a
// client: a message group (the __SHARDINGKEY property; messages without one
// form one group per queue, which is what a remoting producer's per-queue
// ordering needs) has at most one batch in flight. A receive hands out a
// group's ready and waiting messages, then its new ones, consecutive in
// queue order, as many as the batch size allows, all in flight together;
// the group then delivers nothing more until every one of them is
// acknowledged, dead-lettered or expired. The unacknowledged messages of an
// expired batch come back first, in queue order, with their attempt + 1,
// followed by the group's younger messages. (The real broker blocks a whole
// queue; per message group is finer, and groups never wait for each other.)
// A consumer keeps the order by handling a batch's messages of one group
// one after the other.
//
// The group's consumer offset (Host.CommitOffset) is the low-water mark:
// the oldest pending offset, or the cursor when nothing is pending, so the
// offset table never claims a message that might still be redelivered. The
// pending entries themselves (attempt counts, visible times) live in
// memory: after a restart, every message from the committed offset on is
// delivered again with attempt 1 (at least once, never lost).
//
// An offset set from outside the engine (an admin's reset, a client's
// UpdateOffset) goes through SetOffset, which commits it and drops the
// group's state in the queue: the next receive reads from the new offset,
// with attempt 1, and every handle of an earlier delivery there has
// expired, so an ack of one changes no offset. Messages below the new
// offset that were in flight are not delivered again (the real broker
// revives an unacknowledged one from its checkpoint; here a reset forward
// skips it, as the user asked).
//
// Bounds: at most WithMaxPending entries per queue (further new messages of
// that queue wait until entries leave); a queue's state with nothing
// pending is dropped after a minute unused (its offset is committed); a
// receive returns at most MaxReceiveBatch messages; long-polling waits end
// at their deadline, their context, or Close.
//
// # Time
//
// Visible times and attempts run on the engine's Clock (WithClock), so a
// test drives expiry with a manual clock: Advance, then Receive sees the
// redelivery (every call first processes what fell due). Long-polling
// waits run on real time, as the clients' own deadlines do.
//
// # Concurrency
//
// One mutex guards all entries and cursors. While holding it the engine
// reads the store and commits offsets through the Host (both leaf calls
// that never call back); it releases it before writing to the dead-letter
// queue (Host.DeadLetter stores a message, which calls Notify). Waiting
// receives are kept under a second mutex of their own, never held with the
// first. One goroutine (Start) sleeps on the Clock until the next visible
// time and wakes the receives waiting for it.
package pop

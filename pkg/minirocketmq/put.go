package minirocketmq

import (
	"fmt"

	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/message"
)

// putMessages appends msgs (one queue) to the store and wakes the pulls
// held on that queue. Every path that stores a message goes through here
// (sends now; redeliveries, delayed and committed messages later) so long
// polling sees them all.
func (b *Broker) putMessages(msgs []*message.Message) error {
	if err := b.store.Put(msgs); err != nil {
		return fmt.Errorf("store %d message(s) in %s/%d: %w", len(msgs), msgs[0].Topic, msgs[0].QueueID, err)
	}
	b.holds.notify(msgs)
	return nil
}

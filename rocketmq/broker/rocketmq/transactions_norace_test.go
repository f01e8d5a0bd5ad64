//go:build !race

// The client races with itself when it answers a transaction check-back (its
// END_TRANSACTION goroutine reads rmqClient.close while Shutdown writes it;
// the client's own race, not ours), so this test runs only in the non-race
// pass (make test runs `go test -run NoRace ./...`).

package rocketmq

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestNoRaceTransactions(t *testing.T) {
	ns := rmqtest.NameServer(t)
	var checked atomic.Int32
	b := newTestBroker(t, ns, WithGroupName(rmqtest.Name(t, "PG")),
		WithTransactionChecker(func(ctx context.Context, m *broker.Message) broker.TransactionState {
			checked.Add(1)
			if m.Headers["tx"] == "unknown-then-commit" {
				return broker.TransactionCommit
			}
			return broker.TransactionRollback
		}))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var rec recorder
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			rec.add(ctx, tp, h, o)
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	publish := func(kind string, state broker.TransactionState) error {
		var ran bool
		err := b.Publish(ctx, topic, &order{Note: kind}, WithProperties(map[string]string{"tx": kind}),
			WithTransaction(func(ctx context.Context, m *broker.Message) broker.TransactionState {
				ran = m.Headers["tx"] == kind
				return state
			}))
		if !ran {
			t.Errorf("%s: local transaction did not run with the message", kind)
		}
		return err
	}
	if err := publish("commit", broker.TransactionCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := publish("rollback", broker.TransactionRollback); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("rollback: err = %v, want ErrRolledBack", err)
	}
	if err := publish("unknown-then-commit", broker.TransactionUnknown); err != nil {
		t.Fatalf("unknown: %v", err)
	}
	poll.Until(t, 120*time.Second, "the committed and the checked-back message", func() bool { return rec.len() >= 2 })
	notes := map[string]bool{}
	for _, e := range rec.all() {
		notes[e.body.(*order).Note] = true
	}
	if !notes["commit"] || !notes["unknown-then-commit"] || notes["rollback"] {
		t.Errorf("delivered %v, want commit and unknown-then-commit only", notes)
	}
	if checked.Load() == 0 {
		t.Error("checker never asked")
	}
}

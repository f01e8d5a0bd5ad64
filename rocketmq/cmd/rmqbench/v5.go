package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Scenario 6: the RocketMQ 5 driver (DriverTypeV5, our own gRPC client) beside the v2
// stack on the same broker (the embedded one serves both protocols over one store).
// Three sides take turns, in an order that rotates each round: the raw v2 client, our
// v2 stack, and the v5 driver; each round gives the ratios v5 ÷ raw v2 and v5 ÷ our
// v2 from the v5 turn and the other two. The jobs are the ones of scenarios 1 and 2:
// publish a 1 KiB JSON event (SendSync ×N, async, batch), and drain pre-produced events
// with the transport server (RegisterSubscriber, JSON codec, recovery middleware) on
// the v5 driver. No goal: the protocols differ (a v5 consumer receives in batches of at
// most 32 and acknowledges each message, where a push consumer streams pulls).

var v5PublishCases = []publishCase{
	{"SendSync ×1", modeSync, 1, false},
	{"SendSync ×16", modeSync, 16, false},
	{fmt.Sprintf("SendAsync (%d in flight)", asyncInFlight), modeAsync, 1, false},
	{fmt.Sprintf("batch of %d ×4", batchSize), modeBatch, 4, false},
}

// v5Header is ratioHeader with the sides named for these tables.
var v5Header = []string{"case", "baseline msg/s", "v5 msg/s", "wall ÷ (rounds' range)",
	"baseline CPU µs/msg", "v5 CPU µs/msg", "v5 ÷ baseline", "goal"}

const v5Note = "Baseline: the raw rocketmq-client-go/v2 client (\"÷ raw v2\") or this project's v2 stack " +
	"(\"÷ our v2\"), measured in the same rounds as the v5 driver. Columns as in tables 1 and 2 " +
	"(v5 ÷ baseline: messages per CPU second of this process, which holds the clients only)."

func runV5(ctx context.Context, e *env) ([]*table, error) {
	pub := &table{title: "6. RocketMQ 5 driver (gRPC): publish, v5 ÷ raw v2 client and v5 ÷ our v2 driver", header: v5Header,
		notes: []string{fmt.Sprintf("Each case: %d rounds of a %v turn per side, as table 1.", e.cfg.rounds, e.cfg.turn), v5Note}}
	con := &table{title: "7. RocketMQ 5 driver (gRPC): consume, v5 ÷ raw v2 push consumer and v5 ÷ our v2 transport", header: v5Header}
	if e.grpc == "" {
		na := "not measured: " + envNameServer + " names an external cluster and " + envProxy + " no RocketMQ 5 proxy"
		pub.row(na, "–", "–", "–", "–", "–", "–", "–")
		con.row(na, "–", "–", "–", "–", "–", "–", "–")
		return []*table{pub, con}, nil
	}
	if err := runV5Publish(ctx, e, pub); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := runV5Consume(ctx, e, con); err != nil {
		return nil, fmt.Errorf("consume: %w", err)
	}
	return []*table{pub, con}, nil
}

func runV5Publish(ctx context.Context, e *env, t *table) error {
	rawTopic, oursTopic, v5Topic := name("v5pub_raw"), name("v5pub_ours"), name("v5pub_v5")
	if err := e.ensureTopics(ctx, rawTopic, oursTopic, v5Topic); err != nil {
		return err
	}
	p, err := e.newRawProducer()
	if err != nil {
		return fmt.Errorf("raw producer: %w", err)
	}
	defer func() { _ = p.Shutdown() }()
	ours := e.newDriver()
	if err := ours.Connect(); err != nil {
		return fmt.Errorf("our broker: %w", err)
	}
	defer func() { _ = ours.Disconnect() }()
	v5 := e.newV5Driver()
	if err := v5.Connect(); err != nil {
		return fmt.Errorf("v5 driver at %s: %w", e.grpc, err)
	}
	defer func() { _ = v5.Disconnect() }()
	ev := newEvent(0)
	if err := prime(rawSender(p, rawTopic, ev, modeSync), ourSender(ours, oursTopic, ev, modeSync),
		ourSender(v5, v5Topic, ev, modeSync)); err != nil {
		return err
	}
	for _, c := range v5PublishCases {
		sides := [3]side{
			publishSide(c, rawSender(p, rawTopic, ev, c.mode)),
			publishSide(c, ourSender(ours, oursTopic, ev, c.mode)),
			publishSide(c, ourSender(v5, v5Topic, ev, c.mode)),
		}
		vsRaw, vsOurs, err := alternate3(ctx, e.cfg.rounds, e.cfg.warmup, e.cfg.turn, sides)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		t.ratioRow(c.name+" ÷ raw v2", "", vsRaw, nil)
		t.ratioRow(c.name+" ÷ our v2", "", vsOurs, nil)
		if err := e.emptyTopics(ctx, rawTopic, oursTopic, v5Topic); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// alternate3 runs a warm-up turn of each of the three sides (raw v2, our v2, v5),
// then n rounds of one turn each in a rotating order, and returns the rounds of v5
// against raw and against ours (v5 as the "ours" side of both).
func alternate3(ctx context.Context, n int, warmup, turn time.Duration, sides [3]side) (vsRaw, vsOurs *rounds, err error) {
	for i := range 3 {
		if _, _, _, err := runTurn(ctx, min(i, 1), warmup, sides[i]); err != nil {
			return nil, nil, fmt.Errorf("%s warm-up: %w", v5SideNames[i], err)
		}
	}
	vsRaw, vsOurs = &rounds{}, &rounds{}
	for k := range n {
		for j := range 3 {
			i := (j + k) % 3
			msgs, wall, cpu, err := runTurn(ctx, min(i, 1), turn, sides[i])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", v5SideNames[i], err)
			}
			v5Record(vsRaw, vsOurs, i, msgs, wall, cpu)
		}
	}
	return vsRaw, vsOurs, nil
}

var v5SideNames = [3]string{"raw v2", "our v2", "v5"}

// v5Record adds a turn of side i (0 raw, 1 our v2, 2 v5) to the two comparisons.
func v5Record(vsRaw, vsOurs *rounds, i int, msgs int64, wall, cpu time.Duration) {
	switch i {
	case 0:
		vsRaw.add(0, msgs, wall, cpu)
	case 1:
		vsOurs.add(0, msgs, wall, cpu)
	default:
		vsRaw.add(1, msgs, wall, cpu)
		vsOurs.add(1, msgs, wall, cpu)
	}
}

func runV5Consume(ctx context.Context, e *env, t *table) error {
	n := e.cfg.consumeRounds
	per := max(e.cfg.consumeMessages/n, 2)
	warm := max(per/4, 2)
	topics := make([][3]string, n+1) // the last triple is for the warm-up drains
	var all []string
	for k := range topics {
		topics[k] = [3]string{name("v5con_raw"), name("v5con_ours"), name("v5con_v5")}
		all = append(all, topics[k][:]...)
	}
	if err := e.ensureTopics(ctx, all...); err != nil {
		return err
	}
	body, err := json.Marshal(newEvent(0))
	if err != nil {
		return err
	}
	p, err := e.newRawProducer()
	if err != nil {
		return err
	}
	for k, topic := range all {
		count := per
		if k >= 3*n {
			count = warm
		}
		if err := fill(p, topic, count, body); err != nil {
			_ = p.Shutdown()
			return fmt.Errorf("pre-produce: %w", err)
		}
	}
	_ = p.Shutdown()
	for i := range 3 {
		if _, _, _, err := drainTurn(ctx, e, i, topics[n][i], warm); err != nil {
			return fmt.Errorf("%s warm-up: %w", v5SideNames[i], err)
		}
	}
	vsRaw, vsOurs := &rounds{}, &rounds{}
	for k := range n {
		for j := range 3 {
			i := (j + k) % 3
			msgs, wall, cpu, err := drainTurn(ctx, e, i, topics[k][i], per)
			if err != nil {
				return fmt.Errorf("%s: %w", v5SideNames[i], err)
			}
			v5Record(vsRaw, vsOurs, i, msgs, wall, cpu)
		}
	}
	drain := fmt.Sprintf("drain %s × 1 KiB", groupDigits(int64(n*per)))
	t.ratioRow(drain+" ÷ raw v2", "", vsRaw, nil)
	t.ratioRow(drain+" ÷ our v2", "", vsOurs, nil)
	t.notes = []string{fmt.Sprintf("%d rounds of one drain of %s messages per side, as table 2; the v5 side is "+
		"the transport server on the v5 driver (default settings: 2 receivers, 20 handlers).", n, groupDigits(int64(per))), v5Note}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"
)

// Scenario 5: the embedded broker's process (see child.go): how long from process
// start until it listens and until a new client's first send is accepted, fresh and
// restarted over a data directory holding messages; and its resident memory before and
// after storing messages.

func runStartup(ctx context.Context, e *env) ([]*table, error) {
	start := &table{
		title:  "5. Broker process: cold start",
		header: []string{"case", "listening after", "first accepted send after"},
		notes: []string{"From the start of the broker process (this program in child mode) until it listens, " +
			"and until a new producer's first send to a new topic is accepted (its route lookups included)."},
	}
	n := e.cfg.rssMessages
	mem := &table{
		title:  "5. Broker process: resident memory (VmRSS)",
		header: []string{"store", "idle", fmt.Sprintf("after %s × 1 KiB", groupDigits(int64(n))), "peak"},
		notes:  []string{"Messages sent in batches of 32; read from /proc/<pid>/status right after the last send was acknowledged."},
	}
	if e.embedded == nil {
		na := "not applicable: " + envNameServer + " names an external cluster"
		start.row(na, "–", "–")
		mem.row(na, "–", "–", "–")
		return []*table{start, mem}, nil
	}
	dir, err := os.MkdirTemp("", "rmqbench-start-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	body := make([]byte, 1024)
	for _, k := range []struct{ name, spec string }{{"memory", "memory"}, {"disk ASYNC_FLUSH", "ASYNC_FLUSH:" + dir}} {
		c, err := startChild(k.spec)
		if err != nil {
			return nil, err
		}
		err = measureChild(ctx, c, k.name, n, body, start, mem)
		if stopErr := c.stop(); err == nil {
			err = stopErr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
	}
	c, err := startChild("ASYNC_FLUSH:" + dir) // restart over the messages the disk broker stored
	if err != nil {
		return nil, err
	}
	first, err := c.firstSend()
	if stopErr := c.stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return nil, err
	}
	start.row(fmt.Sprintf("disk ASYNC_FLUSH, restart over %s stored messages", groupDigits(int64(n+1))), ms(c.listening), ms(first))
	return []*table{start, mem}, nil
}

// measureChild adds c's cold-start row, then stores n messages and adds its memory row.
func measureChild(ctx context.Context, c *child, store string, n int, body []byte, start, mem *table) error {
	first, err := c.firstSend()
	if err != nil {
		return err
	}
	start.row(store+", fresh", ms(c.listening), ms(first))
	idle, _, err := c.rss()
	if err != nil {
		mem.row(store, "not available: "+err.Error(), "–", "–")
		return nil
	}
	topic := name("rss")
	if err := ensureTopics(ctx, c.addr, topic); err != nil {
		return err
	}
	p, err := newRawProducer(c.addr)
	if err != nil {
		return err
	}
	err = fill(p, topic, n, body)
	_ = p.Shutdown()
	if err != nil {
		return err
	}
	cur, peak, err := c.rss()
	if err != nil {
		return err
	}
	mem.row(store, mib(idle), mib(cur), mib(peak))
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

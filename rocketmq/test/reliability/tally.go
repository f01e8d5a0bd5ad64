package reliability

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tally counts messages by key: what was sent (acknowledged by the broker), what
// handlers confirmed, what reached the dead-letter queue.
type Tally struct {
	mu         sync.Mutex
	sent       map[string]bool
	confirmed  map[string]int // key → successful handler runs
	dlq        map[string]int // key → copies in %DLQ%
	deliveries int            // handler runs, failed ones included
}

// NewTally returns an empty tally; its methods may be called from any goroutine.
func NewTally() *Tally {
	return &Tally{sent: map[string]bool{}, confirmed: map[string]int{}, dlq: map[string]int{}}
}

// AddSent counts key as sent (acknowledged by the broker).
func (c *Tally) AddSent(key string) {
	c.mu.Lock()
	c.sent[key] = true
	c.mu.Unlock()
}

// AddDelivery counts one handler run, failed or not.
func (c *Tally) AddDelivery() {
	c.mu.Lock()
	c.deliveries++
	c.mu.Unlock()
}

// AddConfirmed counts a successful handler run for key.
func (c *Tally) AddConfirmed(key string) {
	c.mu.Lock()
	c.confirmed[key]++
	c.mu.Unlock()
}

// AddDLQ counts a copy of key found in the dead-letter queue.
func (c *Tally) AddDLQ(key string) {
	c.mu.Lock()
	c.dlq[key]++
	c.mu.Unlock()
}

// Missing returns the sent keys neither confirmed nor dead-lettered, sorted.
func (c *Tally) Missing() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.sent {
		if c.confirmed[k] == 0 && c.dlq[k] == 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Figures is the one-line account the tests log: sent, consumed (distinct keys
// confirmed), dead-lettered (distinct keys), lost, and the duplicates handled.
func (c *Tally) Figures() string {
	c.mu.Lock()
	sent, confirmed, dlq, dups := len(c.sent), 0, 0, 0
	for k := range c.sent {
		if n := c.confirmed[k]; n > 0 {
			confirmed++
			dups += n - 1
		}
		if c.dlq[k] > 0 {
			dlq++
		}
	}
	deliveries := c.deliveries
	c.mu.Unlock()
	return fmt.Sprintf("sent=%d consumed=%d dlq=%d lost=%d (handler runs=%d, duplicate confirmations=%d)",
		sent, confirmed, dlq, len(c.Missing()), deliveries, dups)
}

// WaitAccounted waits until every sent key is confirmed or dead-lettered, then fails t
// naming the missing keys.
func (c *Tally) WaitAccounted(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := c.Missing()
		if len(m) == 0 {
			return
		}
		if time.Now().After(deadline) {
			if len(m) > 20 {
				m = append(m[:20], "...")
			}
			t.Fatalf("after %s, %s; missing keys: %s", d, c.Figures(), strings.Join(m, " "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Sent returns how many distinct keys were sent.
func (c *Tally) Sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent)
}

// Consumed returns how many distinct keys were confirmed.
func (c *Tally) Consumed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.confirmed)
}

package rocketmq

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestInflightDrain(t *testing.T) {
	f := newInflight()
	if !f.enter() || !f.enter() {
		t.Fatal("enter refused before draining")
	}
	done := make(chan error, 1)
	go func() { done <- f.drain(context.Background()) }()
	poll.Until(t, 5*time.Second, "draining bit", func() bool { return f.n.Load()&drainBit != 0 })
	if f.enter() {
		t.Fatal("enter allowed while draining")
	}
	f.leave()
	select {
	case err := <-done:
		t.Fatalf("drain returned %v with one handler left", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.leave()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.running() != 0 {
		t.Errorf("running = %d", f.running())
	}

	idle := newInflight()
	if err := idle.drain(context.Background()); err != nil {
		t.Errorf("drain of an idle counter: %v", err)
	}

	stuck := newInflight()
	stuck.enter()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := stuck.drain(ctx); err != context.DeadlineExceeded {
		t.Errorf("drain with a stuck handler = %v", err)
	}
}

func TestInflightConcurrent(t *testing.T) {
	f := newInflight()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if f.enter() {
					f.leave()
				}
			}
		}()
	}
	if err := f.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if f.running() != 0 {
		t.Errorf("running = %d after drain", f.running())
	}
}

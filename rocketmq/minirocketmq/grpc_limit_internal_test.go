package minirocketmq

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestLimitListener: the gRPC listener holds at most its limit of open
// connections; the next one is accepted when one closes; Close ends a
// waiting Accept.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &limitListener{Listener: raw, sem: make(chan struct{}, 2), done: make(chan struct{})}
	defer ln.Close()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	accepted := make(chan net.Conn, 3)
	errs := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				errs <- err
				return
			}
			accepted <- c
		}
	}()
	first := <-accepted
	<-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted with a limit of 2")
	case <-time.After(100 * time.Millisecond):
	}
	_ = first.Close()
	_ = first.Close() // a second Close gives back nothing more
	select {
	case c := <-accepted:
		_ = c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not accepted after one closed")
	}
	_ = ln.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

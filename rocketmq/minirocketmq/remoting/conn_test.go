package remoting

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnConcurrentTraffic: many concurrent invokes in one direction while
// the other side pushes its own requests; every response reaches its
// caller with the right content, every push arrives, frames never
// interleave.
func TestConnConcurrentTraffic(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverReady := make(chan *Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		var s *Conn
		s = NewConn(nc, Config{OnRequest: func(c *Conn, req *Command) error {
			resp := NewResponse(req, Success, "")
			resp.Set("echo", req.Get("n"))
			resp.Body = append([]byte(nil), req.Body...)
			return c.Send(resp)
		}})
		serverReady <- s
		_ = s.Serve()
	}()

	var pushes atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := Dial(ctx, ln.Addr().String(), func(_ *Conn, cmd *Command) error {
		if cmd.Code == NotifyConsumerIDsChanged && cmd.IsOneway() {
			pushes.Add(1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-serverReady
	defer server.Close()

	const pushers, pushesEach = 4, 200
	var pushWG sync.WaitGroup
	for range pushers {
		pushWG.Add(1)
		go func() {
			defer pushWG.Done()
			for range pushesEach {
				if err := server.SendOneway(NewRequest(NotifyConsumerIDsChanged, "consumerGroup", "g")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}

	const callers, calls = 8, 300
	var wg sync.WaitGroup
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				n := fmt.Sprintf("%d-%d", w, i)
				req := NewRequest(HeartBeat, "n", n)
				req.Body = []byte("body " + n)
				resp, err := client.Invoke(ctx, req)
				if err != nil {
					t.Error(err)
					return
				}
				if resp.Get("echo") != n || string(resp.Body) != "body "+n {
					t.Errorf("call %s got echo %q body %q", n, resp.Get("echo"), resp.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	pushWG.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for pushes.Load() != pushers*pushesEach {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pushes arrived", pushes.Load(), pushers*pushesEach)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnInvokeEnds: an Invoke returns on ctx expiry and on close.
func TestConnInvokeEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		_ = NewConn(nc, Config{}).Serve() // never answers
	}()
	c, err := Dial(context.Background(), ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Invoke(ctx, NewRequest(HeartBeat)); err != context.DeadlineExceeded {
		t.Fatalf("Invoke = %v, want deadline exceeded", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), NewRequest(HeartBeat))
		done <- err
	}()
	_ = c.Close() // before or after the invoke registered: both end in ErrClosed

	if err := <-done; err != ErrClosed {
		t.Fatalf("Invoke after close = %v, want ErrClosed", err)
	}
	if err := c.Send(NewRequest(HeartBeat)); err != ErrClosed {
		t.Fatalf("Send after close = %v", err)
	}
}

package nacostest

import (
	"errors"
	"fmt"
	"time"
)

// ConfigChangeNotifyRequest: pushed by the server on the bi-stream of every connection
// listening to a configuration that changed or was deleted; it names the configuration
// only, the client then queries the content. The client answers on the bi-stream with the
// request's id. As on the real server (RpcConfigChangeNotifier), a push without an answer
// in time is retried after attempt*delay, and a connection that never answers is
// unregistered. Note that the Go client does not answer pushes for configurations it no
// longer listens to (CancelListenConfig sends nothing to the server).

type configChangeNotify struct {
	RequestID string `json:"requestId"`
	Module    string `json:"module"`
	DataID    string `json:"dataId"`
	Group     string `json:"group"`
	Tenant    string `json:"tenant"`
}

// notify pushes a change of k to each listener on a goroutine of its own.
func (s *Server) notify(k configKey, ls []listener) {
	s.mu.Lock()
	drop := s.dropPushes
	s.mu.Unlock()
	if drop {
		s.logf("nacostest: dropping the notification of %s/%s to %d listeners", k.group, k.dataID, len(ls))
		return
	}
	for _, l := range ls {
		s.spawn(func() { s.pushWithRetry(k, l) })
	}
}

func (s *Server) pushWithRetry(k configKey, l listener) {
	for attempt := 1; ; attempt++ {
		c := s.connection(l.connID)
		if c == nil {
			return // the client went away; it re-listens (and catches up) when it reconnects
		}
		err := s.push(c, k, l.tenant)
		if err == nil {
			return
		}
		if attempt >= s.cfg.pushAttempts {
			s.unregister(c.id, fmt.Sprintf("no answer to %d pushes of %s/%s: %v", attempt, k.group, k.dataID, err))
			return
		}
		s.logf("nacostest: push %s/%s to %s, attempt %d: %v", k.group, k.dataID, c.id, attempt, err)
		t := time.NewTimer(time.Duration(attempt) * s.cfg.pushRetryDelay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return
		}
	}
}

// push sends one notification and waits for the client's answer.
func (s *Server) push(c *conn, k configKey, tenant string) error {
	id := s.newRequestID()
	answer := c.expect(id)
	defer c.forget(id)
	p, err := encode("ConfigChangeNotifyRequest", configChangeNotify{RequestID: id, Module: "config",
		DataID: k.dataID, Group: k.group, Tenant: tenant})
	if err != nil {
		return err
	}
	if err := c.send(p); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	t := time.NewTimer(s.cfg.ackTimeout)
	defer t.Stop()
	select {
	case resp := <-answer:
		// The Java server judges an answer by its result code; the Go client leaves
		// "success" false in its NotifySubscriberResponse.
		if resp.ResultCode != resultSuccess {
			return fmt.Errorf("client answered result code %d: %s", resp.ResultCode, resp.Message)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("no answer within %s", s.cfg.ackTimeout)
	case <-c.kicked:
		return errors.New("connection closed")
	case <-s.done:
		return errors.New("server closed")
	}
}

// DropPushes makes the server skip change notifications from now on (true) or send them
// again (false), as if they were lost on the way: clients then see a change only when
// they read the configuration.
func (s *Server) DropPushes(drop bool) {
	s.mu.Lock()
	s.dropPushes = drop
	s.mu.Unlock()
}

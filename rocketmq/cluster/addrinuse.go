package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/kratos-rocketmq/rocketmq/admin"
)

// Hints tell the user of a service, in Open's errors and the Doctor's report, how to
// change a setting where they configure it. Each but BrokerAddress is a format whose one
// verb (%s, or %[1]s used several times) receives the address to write, e.g.
// "APP_DATA_ROCKETMQ_NAME_SERVERS=%s".
type Hints struct {
	// NameServers points the service at a running cluster.
	NameServers string
	// EmbeddedNameServerAddr and EmbeddedBrokerAddr move the embedded broker's
	// listeners.
	EmbeddedNameServerAddr, EmbeddedBrokerAddr string
	// BrokerAddress, printed by Doctor after the lesson on a broker's unreachable
	// advertised address, says how the service's own deployment sets it.
	BrokerAddress string
}

// defaultHints name the Settings fields.
var defaultHints = Hints{
	NameServers:            "Settings.NameServers = [%q]",
	EmbeddedNameServerAddr: "Embedded.NameServerAddr = %q",
	EmbeddedBrokerAddr:     "Embedded.BrokerAddr = %q",
}

// WithHints sets how Open's errors and Doctor tell the user to change a setting
// (default: the Settings fields' names). Empty fields keep their default.
func WithHints(h Hints) Option {
	return func(o *openOptions) {
		if h.NameServers != "" {
			o.hints.NameServers = h.NameServers
		}
		if h.EmbeddedNameServerAddr != "" {
			o.hints.EmbeddedNameServerAddr = h.EmbeddedNameServerAddr
		}
		if h.EmbeddedBrokerAddr != "" {
			o.hints.EmbeddedBrokerAddr = h.EmbeddedBrokerAddr
		}
		o.hints.BrokerAddress = h.BrokerAddress
	}
}

// AddrInUseError is Open's error when the embedded broker cannot listen on an address
// because something else listens there. Its message says what answers there and what
// to do: use the RocketMQ name server that answers, or move the embedded listener.
type AddrInUseError struct {
	// Listener is "name server" or "broker".
	Listener string
	// Addr is the address that is taken.
	Addr string
	// NameServer reports that a RocketMQ name server answers on Addr.
	NameServer bool
	// Err is the listen error.
	Err error

	hints Hints
}

// freeAddr is what the hints propose to move an embedded listener to: a port the
// kernel picks.
const freeAddr = "127.0.0.1:0"

func (e *AddrInUseError) Error() string {
	move := e.hints.EmbeddedNameServerAddr
	if e.Listener == "broker" {
		move = e.hints.EmbeddedBrokerAddr
	}
	move = fmt.Sprintf(move, freeAddr)
	if e.NameServer {
		return fmt.Sprintf("embedded RocketMQ %s: %s is taken, and a RocketMQ name server answers there: "+
			"use it with %s instead of the embedded broker, or move the embedded one with %s",
			e.Listener, e.Addr, fmt.Sprintf(e.hints.NameServers, e.Addr), move)
	}
	return fmt.Sprintf("embedded RocketMQ %s: something else listens on %s (no RocketMQ name server answers there): "+
		"move the embedded one with %s (%v)", e.Listener, e.Addr, move, e.Err)
}

// Unwrap returns the listen error.
func (e *AddrInUseError) Unwrap() error { return e.Err }

// identifyTimeout bounds the question to what holds a taken address.
const identifyTimeout = time.Second

// addrInUse returns an *AddrInUseError when err is the failure to listen on nsAddr or
// brokerAddr because the address is taken, after asking what answers there; nil
// otherwise.
func addrInUse(ctx context.Context, err error, nsAddr, brokerAddr string, hints Hints) error {
	var op *net.OpError
	if !errors.Is(err, syscall.EADDRINUSE) || !errors.As(err, &op) || op.Addr == nil {
		return nil
	}
	e := &AddrInUseError{Listener: "name server", Addr: nsAddr, Err: err, hints: hints}
	if sameAddr(op.Addr, brokerAddr) && !sameAddr(op.Addr, nsAddr) {
		e.Listener, e.Addr = "broker", brokerAddr
	}
	ctx, cancel := context.WithTimeout(ctx, identifyTimeout)
	defer cancel()
	rep := admin.Probe(ctx, []string{e.Addr}, nil)
	e.NameServer = rep.NameServers[0].Err == nil
	return e
}

// sameAddr reports whether a listen error's address is the configured addr.
func sameAddr(a net.Addr, addr string) bool {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	return err == nil && ta.String() == a.String()
}

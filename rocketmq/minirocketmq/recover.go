package minirocketmq

import (
	"errors"
	"runtime/debug"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Panic isolation. The broker usually runs inside the user's service, so a
// request must never take the process down: dispatch recovers a panic of
// any interceptor, test control or handler, and so do the places that run
// request code off the connection's reader (held pulls answered later,
// SYNC_FLUSH acknowledgements, broker→client calls a request started). The
// request gets SYSTEM_ERROR, the panic and its stack are logged once at
// error level with the request code, and only that request's connection is
// closed (a client that sent something the broker chokes on reconnects
// with a clean slate; the broker's other state is guarded by mutexes that
// deferred unlocks release). Broker.Stats counts them.

// errHandlerPanic is the close reason of a connection whose request made
// the broker panic.
var errHandlerPanic = errors.New("a request handler panicked")

// msgHandlerPanic is the remark of the answer to such a request (the Java
// broker answers SYSTEM_ERROR with the exception's simple description).
const msgHandlerPanic = "minirocketmq: internal error serving request code %d: %v"

// recovered handles a panic p of request req on c: it logs it, answers
// SYSTEM_ERROR (unless the request is oneway) and returns the error that
// closes the connection once the answer is written.
func (b *Broker) recovered(c *conn, req *remoting.Command, p any) error {
	b.panics.Add(1)
	b.log.Logf(LogLevelError, "%s: request code %d from %s panicked: %v; closing the connection\n%s",
		c.listener, req.Code, c.RemoteAddr(), p, debug.Stack())
	if !req.IsOneway() {
		_ = b.respond(c, req, remoting.NewResponse(req, remoting.SystemError, remarkf(msgHandlerPanic, req.Code, p)))
	}
	return errHandlerPanic
}

// guard runs fn, request code of req that runs off c's reader (a held pull
// answered by a timer, an acknowledgement after fsync, a goroutine a
// handler started), and treats a panic as dispatch does, closing c.
func (b *Broker) guard(c *conn, req *remoting.Command, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			_ = b.recovered(c, req, p)
			c.FlushAndClose()
		}
	}()
	fn()
}

// backgroundPanic records a panic p recovered in one of the broker's own
// goroutines (the timer, the pop engine's expiry) while doing what: logged
// once with its stack, counted in Stats().HandlerPanics. The goroutine
// carries on.
func (b *Broker) backgroundPanic(what string, p any, stack []byte) {
	b.panics.Add(1)
	b.log.Logf(LogLevelError, "%s panicked: %v; carrying on\n%s", what, p, stack)
}

// background runs fn, work of one of the broker's own goroutines, and
// recovers a panic as backgroundPanic; undo, when not nil, then puts the
// goroutine's state right for the next round.
func (b *Broker) background(what string, fn, undo func()) {
	defer func() {
		if p := recover(); p != nil {
			b.backgroundPanic(what, p, debug.Stack())
			if undo != nil {
				undo()
			}
		}
	}()
	fn()
}

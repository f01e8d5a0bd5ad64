package remoting

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned for operations on a closed connection.
var ErrClosed = errors.New("remoting: connection closed")

// ErrWriteBacklog is the close reason of a connection whose peer does not
// read its responses fast enough (more than Config.MaxPendingWrite bytes
// queued).
var ErrWriteBacklog = errors.New("remoting: write backlog exceeded, peer is not reading")

// ErrIdle is the close reason of a connection that neither received nor
// sent anything for Config.IdleTimeout.
var ErrIdle = errors.New("remoting: connection idle")

// closeFlushTimeout bounds the last write of a connection that OnRequest
// asked to close: its answers queued so far go out first, unless the peer
// does not read them within this time.
const closeFlushTimeout = time.Second

// Config configures a Conn.
type Config struct {
	// MaxFrameSize is the largest frame read; larger declared lengths
	// close the connection before anything is allocated. Default
	// DefaultMaxFrameSize.
	MaxFrameSize int
	// MaxPendingWrite is how many bytes may wait for the writer before the
	// connection is closed with ErrWriteBacklog. Default 256 MiB.
	MaxPendingWrite int
	// IdleTimeout closes the connection with ErrIdle when nothing was read
	// from it or written to it for this long (the Java server's
	// serverChannelMaxIdleTimeSeconds, an all-idle check). Zero: never.
	IdleTimeout time.Duration
	// OnRequest is called on the reading goroutine for every request
	// (frames without the response flag). It must not block on I/O of this
	// same connection (e.g. Invoke and wait on c): the reader is the one
	// that would deliver the answer. Returning an error closes the
	// connection, after what was queued for writing so far (the answer to
	// this request included) has been written, or a second has passed.
	// Nil means requests are dropped.
	OnRequest func(c *Conn, cmd *Command) error
}

// Conn is one remoting connection, usable from either end.
//
// Concurrency: one goroutine (Serve) reads and decodes frames, hands
// responses to the Invoke waiting for their opaque and requests to
// OnRequest. Send appends the encoded frame to a pending buffer under a
// mutex and never blocks on the network. Who writes the buffer out, always
// everything queued in one syscall:
//   - while the reader is working through frames it has already received
//     (a burst), nobody: it writes the buffer itself before it waits for
//     more input, so a burst of requests costs one write and no goroutine
//     hand-off (Netty's flush at the end of a read);
//   - otherwise the writer goroutine, woken by Send, so frames queued by
//     other goroutines (a held pull answered, a notification) go out at
//     once.
//
// Writes are serialised by wmu, so frames never interleave.
type Conn struct {
	nc  net.Conn
	cfg Config

	mu       sync.Mutex
	out      []byte // frames waiting to be written
	busy     bool   // the reader is in a burst and will flush
	closed   bool
	closeErr error
	pending  map[int32]chan *Command

	wmu   sync.Mutex // held while writing
	spare []byte     // the other half of the double buffer, under wmu

	wake       chan struct{} // capacity 1: "out is not empty"
	done       chan struct{} // closed by Close
	writerDone chan struct{}
	nextOpaque atomic.Int32

	// Last read and write (UnixNano), for IdleTimeout. lastRead is the
	// reader's own; lastWrite is set by whoever flushes.
	lastRead  int64
	lastWrite atomic.Int64
}

// NewConn wraps nc. Call Serve to start reading and writing.
func NewConn(nc net.Conn, cfg Config) *Conn {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	if cfg.MaxPendingWrite <= 0 {
		cfg.MaxPendingWrite = 256 << 20
	}
	return &Conn{
		nc:         nc,
		cfg:        cfg,
		pending:    make(map[int32]chan *Command),
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// Dial connects to addr and starts serving the connection in the background.
// onRequest handles requests the peer sends (nil drops them).
func Dial(ctx context.Context, addr string, onRequest func(*Conn, *Command) error) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := NewConn(nc, Config{OnRequest: onRequest})
	go func() { _ = c.Serve() }()
	return c, nil
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection was closed, nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Serve runs the connection until it is closed or fails: it reads on the
// calling goroutine and writes on a second one, and returns after both
// stopped. The returned error is the reason the connection ended (io.EOF
// for an orderly close by the peer).
func (c *Conn) Serve() error {
	go c.writeLoop()
	err := c.readLoop()
	c.closeWith(err)
	<-c.writerDone
	return c.Err()
}

func (c *Conn) readLoop() error {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	c.lastRead = time.Now().UnixNano()
	for {
		if !frameBuffered(br) {
			// About to wait for input: write what the burst produced.
			c.mu.Lock()
			c.busy = false
			pending := len(c.out) > 0
			c.mu.Unlock()
			if pending {
				if err := c.flush(); err != nil {
					return err
				}
			}
			if err := c.awaitInput(br); err != nil {
				return err
			}
		}
		payload, err := ReadFrame(br, c.cfg.MaxFrameSize)
		if err == nil {
			c.mu.Lock()
			c.busy = true
			c.mu.Unlock()
		}
		if err != nil {
			return err
		}
		cmd, err := Decode(payload)
		if err != nil {
			return err
		}
		if cmd.IsResponse() {
			c.deliver(cmd)
			continue
		}
		if c.cfg.OnRequest != nil {
			if err := c.cfg.OnRequest(c, cmd); err != nil {
				c.flushBeforeClose()
				return err
			}
		}
	}
}

// awaitInput waits until the next byte arrives, for at most IdleTimeout
// since the last read or write: a connection that stays quiet in both
// directions that long ends with ErrIdle. Without IdleTimeout it returns
// at once and the read that follows waits as long as it takes.
func (c *Conn) awaitInput(br *bufio.Reader) error {
	idle := c.cfg.IdleTimeout
	if idle <= 0 {
		return nil
	}
	for {
		last := max(c.lastRead, c.lastWrite.Load())
		deadline := time.Unix(0, last).Add(idle)
		if !time.Now().Before(deadline) {
			return ErrIdle
		}
		if err := c.nc.SetReadDeadline(deadline); err != nil {
			return err
		}
		_, err := br.Peek(1)
		if err == nil {
			c.lastRead = time.Now().UnixNano()
			// The rest of the frame gets another idle period to arrive.
			return c.nc.SetReadDeadline(time.Unix(0, c.lastRead).Add(idle))
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return err
		}
		// Timed out: a write since the deadline was set may keep the
		// connection alive; the loop decides.
	}
}

// flushBeforeClose writes what is queued (the answer that precedes a close
// requested by OnRequest) unless the peer does not take it within
// closeFlushTimeout.
func (c *Conn) flushBeforeClose() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
	_ = c.flush()
}

func (c *Conn) deliver(cmd *Command) {
	c.mu.Lock()
	ch, ok := c.pending[cmd.Opaque]
	if ok {
		delete(c.pending, cmd.Opaque)
	}
	c.mu.Unlock()
	if ok {
		ch <- cmd // buffered, never blocks
	}
}

// frameBuffered reports whether br holds a whole frame, so reading it will
// not wait for the network.
func frameBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n < 4 {
		return false
	}
	head, err := br.Peek(4)
	if err != nil {
		return false
	}
	return int64(n) >= 4+int64(binary.BigEndian.Uint32(head))
}

func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		if err := c.flush(); err != nil {
			return
		}
	}
}

// flush writes everything queued, in one syscall.
func (c *Conn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	buf := c.out
	c.out = c.spare[:0]
	c.mu.Unlock()
	if len(buf) == 0 {
		c.spare = buf
		return nil
	}
	if _, err := c.nc.Write(buf); err != nil {
		c.closeWith(err)
		return err
	}
	if c.cfg.IdleTimeout > 0 {
		c.lastWrite.Store(time.Now().UnixNano())
	}
	if cap(buf) > 4<<20 { // do not keep a large buffer after a big response
		buf = nil
	}
	c.spare = buf[:0]
	return nil
}

// Send queues cmd for writing. It never waits for the network; it fails only
// when the connection is closed or the command cannot be encoded.
func (c *Conn) Send(cmd *Command) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	out, err := AppendFrame(c.out, cmd)
	c.out = out
	backlog := len(out) > c.cfg.MaxPendingWrite
	busy := c.busy
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if backlog {
		c.closeWith(ErrWriteBacklog)
		return ErrWriteBacklog
	}
	if !busy {
		c.wakeWriter()
	}
	return nil
}

func (c *Conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// SendRaw queues already encoded frames (e.g. fuzz or malformed input in
// tests).
func (c *Conn) SendRaw(frames []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.out = append(c.out, frames...)
	c.mu.Unlock()
	c.wakeWriter()
	return nil
}

// SendOneway sends req with a fresh opaque and the oneway flag, expecting no
// response.
func (c *Conn) SendOneway(req *Command) error {
	req.Opaque = c.nextOpaque.Add(1)
	req.Flag |= FlagOneway
	req.Flag &^= FlagResponse
	return c.Send(req)
}

// Invoke sends req with a fresh opaque and waits for its response, ctx's end
// or the connection's close.
func (c *Conn) Invoke(ctx context.Context, req *Command) (*Command, error) {
	req.Opaque = c.nextOpaque.Add(1)
	req.Flag &^= FlagResponse | FlagOneway
	ch := make(chan *Command, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.pending[req.Opaque] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, req.Opaque)
		c.mu.Unlock()
	}
	if err := c.Send(req); err != nil {
		forget()
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	case <-c.done:
		forget()
		select { // the response may have raced with the close
		case resp := <-ch:
			return resp, nil
		default:
		}
		return nil, ErrClosed
	}
}

// FlushAndClose writes the frames queued so far (giving the peer a second
// to take them) and closes the connection.
func (c *Conn) FlushAndClose() {
	c.flushBeforeClose()
	c.closeWith(ErrClosed)
}

// Close closes the connection. Queued but unwritten frames are dropped.
func (c *Conn) Close() error {
	c.closeWith(ErrClosed)
	return nil
}

func (c *Conn) closeWith(reason error) {
	if reason == nil {
		reason = ErrClosed
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closeErr = reason
	c.out = nil
	c.mu.Unlock()
	close(c.done)
	_ = c.nc.Close()
}

// IsClosedErr reports whether err only says that the connection ended (peer
// close, local close), as opposed to a protocol or I/O failure worth logging.
func IsClosedErr(err error) bool {
	return err == nil || errors.Is(err, ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

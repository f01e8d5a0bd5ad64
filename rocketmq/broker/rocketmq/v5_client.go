package rocketmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// v5Client is one client of the RocketMQ 5 protocol, as the official SDKs have one per
// producer and per consumer: the driver's producer, or the consumer of one group. It
// has its own client id and settings, and keeps a Telemetry stream open until close:
//
//   - on (re)connect it sends its settings, and again whenever they change (a producer
//     publishing to a new topic, a group subscribing another one); the server answers
//     with the settings completed by its side (back-off policy, FIFO, batch size, long
//     polling, message type validation), which the client keeps (serverSettings);
//   - the server's other commands come on the same stream: transaction recoveries go to
//     onCommand, thread-stack and verify requests are answered here;
//   - a stream that fails is reopened after v5ReconnectDelay; settings are sent again.
//
// Heartbeats (every 10 s) and NotifyClientTermination are sent by the broker's loop and
// by close. Concurrency: mu guards the settings and the stream handle; sendMu
// serialises Send on the stream; one goroutine (run) reads it.
type v5Client struct {
	conn      *v5Conn
	id        string
	kind      v2.ClientType
	group     string // consumer group (plain name), "" for the producer
	log       *log.Helper
	onCommand func(*v2.TelemetryCommand)

	mu       sync.Mutex
	settings *v2.Settings // what this client sends
	answer   *v2.Settings // the server's last answer
	firstErr error        // why the first answer cannot come
	stream   v2.MessagingService_TelemetryClient
	ready    chan struct{} // closed at the first answer, or when firstErr is set

	sendMu sync.Mutex
	// lifeMu orders heartbeats before the goodbye: a heartbeat after
	// NotifyClientTermination would make the server know the client again.
	lifeMu sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// v5ReconnectDelay is the pause before a failed Telemetry stream is reopened.
const v5ReconnectDelay = time.Second

// v5Heartbeat is how often clients heartbeat (the SDKs' 10 s).
const v5Heartbeat = 10 * time.Second

// newClientID returns a client id like the SDKs' (host@pid@index@random), with the
// instance name in front when one is set.
func newClientID(instance, role string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("%s@%s@%d@%s@%s", host, instance, os.Getpid(), role, hex.EncodeToString(rnd[:]))
}

// startClient starts the client's Telemetry stream with settings.
func startClient(conn *v5Conn, id string, kind v2.ClientType, group string, settings *v2.Settings, l *log.Helper, onCommand func(*v2.TelemetryCommand)) *v5Client {
	ctx, cancel := context.WithCancel(context.Background())
	c := &v5Client{
		conn: conn, id: id, kind: kind, group: group, log: l, onCommand: onCommand,
		settings: settings, ready: make(chan struct{}), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go c.run()
	return c
}

// waitReady waits for the server's first answer to the settings (what the SDKs'
// start-up waits for) and returns it.
func (c *v5Client) waitReady(ctx context.Context) (*v2.Settings, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("rocketmq v5: client %s: no answer to its settings: %w", c.id, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answer == nil {
		return nil, fmt.Errorf("rocketmq v5: client %s: settings refused: %w", c.id, c.firstErr)
	}
	return c.answer, nil
}

// serverSettings returns the server's last answer (nil before the first).
func (c *v5Client) serverSettings() *v2.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answer
}

// updateSettings changes the settings with f and sends them on the open stream (a
// stream opened later sends them anyway).
func (c *v5Client) updateSettings(f func(*v2.Settings)) {
	c.mu.Lock()
	s := proto.Clone(c.settings).(*v2.Settings)
	f(s)
	c.settings = s
	stream := c.stream
	c.mu.Unlock()
	if stream != nil {
		if err := c.send(stream, &v2.TelemetryCommand{Command: &v2.TelemetryCommand_Settings{Settings: s}}); err != nil {
			c.log.Warnw("msg", "sending changed settings failed; the reopened stream sends them", "client", c.id, "error", err)
		}
	}
}

func (c *v5Client) send(stream v2.MessagingService_TelemetryClient, cmd *v2.TelemetryCommand) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return stream.Send(cmd)
}

func (c *v5Client) run() {
	defer close(c.done)
	for {
		err := c.session()
		if c.ctx.Err() != nil {
			return
		}
		c.failFirst(err)
		c.log.Warnw("msg", "telemetry stream ended; reopening it", "client", c.id, "error", err)
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(v5ReconnectDelay):
		}
	}
}

// session runs one Telemetry stream until it fails or the client closes.
func (c *v5Client) session() error {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	stream, err := c.conn.api.Telemetry(c.conn.outgoing(ctx, c.id))
	if err != nil {
		return fmt.Errorf("open telemetry stream: %w", err)
	}
	c.mu.Lock()
	c.stream = stream
	settings := c.settings
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.stream = nil
		c.mu.Unlock()
	}()
	if err := c.send(stream, &v2.TelemetryCommand{Command: &v2.TelemetryCommand_Settings{Settings: settings}}); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("send settings: %w", err)
	} // io.EOF: the server ended the stream; Recv says why

	for {
		cmd, err := stream.Recv()
		if err != nil {
			return err
		}
		c.handle(stream, cmd)
	}
}

// failFirst records why the first answer did not come (only before it came).
func (c *v5Client) failFirst(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answer != nil || c.firstErr != nil {
		return
	}
	if err == nil {
		err = errors.New("telemetry stream ended")
	}
	c.firstErr = err
	close(c.ready)
}

// handle processes one command from the server.
func (c *v5Client) handle(stream v2.MessagingService_TelemetryClient, cmd *v2.TelemetryCommand) {
	switch x := cmd.GetCommand().(type) {
	case *v2.TelemetryCommand_Settings:
		c.mu.Lock()
		first := c.answer == nil && c.firstErr == nil
		c.answer = x.Settings
		c.mu.Unlock()
		if first {
			close(c.ready)
		}
	case *v2.TelemetryCommand_RecoverOrphanedTransactionCommand:
		if c.onCommand != nil {
			c.onCommand(cmd)
		} else {
			c.log.Warnw("msg", "transaction recovery sent to a consumer; ignored", "client", c.id)
		}
	case *v2.TelemetryCommand_PrintThreadStackTraceCommand:
		buf := make([]byte, 256<<10)
		stack := string(buf[:runtime.Stack(buf, true)])
		_ = c.send(stream, &v2.TelemetryCommand{Status: &v2.Status{Code: v2.Code_OK, Message: "OK"},
			Command: &v2.TelemetryCommand_ThreadStackTrace{ThreadStackTrace: &v2.ThreadStackTrace{
				Nonce: x.PrintThreadStackTraceCommand.GetNonce(), ThreadStackTrace: &stack}}})
	case *v2.TelemetryCommand_VerifyMessageCommand:
		_ = c.send(stream, &v2.TelemetryCommand{Status: &v2.Status{Code: v2.Code_NOT_IMPLEMENTED, Message: "message verification is not implemented by this client"},
			Command: &v2.TelemetryCommand_VerifyMessageResult{VerifyMessageResult: &v2.VerifyMessageResult{Nonce: x.VerifyMessageCommand.GetNonce()}}})
	case nil:
		if err := statusErr("telemetry", cmd.GetStatus()); err != nil {
			c.failFirst(err)
			c.log.Warnw("msg", "the server refused the client's settings", "client", c.id, "error", err)
		}
	default:
		c.log.Debugw("msg", "telemetry command not handled", "client", c.id, "command", fmt.Sprintf("%T", x))
	}
}

// heartbeat tells the server the client is alive (nothing once it said goodbye).
func (c *v5Client) heartbeat(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.closed {
		return nil
	}
	req := &v2.HeartbeatRequest{ClientType: c.kind}
	if c.group != "" {
		req.Group = c.conn.resource(c.group)
	}
	cctx, cancel := c.conn.call(ctx, c.id)
	defer cancel()
	resp, err := c.conn.api.Heartbeat(cctx, req)
	if err != nil {
		return fmt.Errorf("rocketmq v5: heartbeat of %s: %w", c.id, err)
	}
	return statusErr("rocketmq v5: heartbeat of "+c.id, resp.GetStatus())
}

// close ends the Telemetry stream, then says goodbye (NotifyClientTermination: the
// server forgets the client and releases the messages it kept invisible for it). In
// this order, and with no heartbeat after it, nothing makes the server know the client
// again.
func (c *v5Client) close(ctx context.Context) error {
	c.lifeMu.Lock()
	c.closed = true
	c.lifeMu.Unlock()
	c.cancel()
	<-c.done
	req := &v2.NotifyClientTerminationRequest{}
	if c.group != "" {
		req.Group = c.conn.resource(c.group)
	}
	cctx, cancel := c.conn.call(ctx, c.id)
	resp, err := c.conn.api.NotifyClientTermination(cctx, req)
	cancel()
	if err == nil {
		err = statusErr("notify client termination", resp.GetStatus())
	}
	if err != nil {
		return fmt.Errorf("rocketmq v5: client %s: %w", c.id, err)
	}
	return nil
}

// baseSettings are the settings every client sends.
func (c *v5Conn) baseSettings(kind v2.ClientType) *v2.Settings {
	host, _ := os.Hostname()
	return &v2.Settings{
		ClientType:     &kind,
		AccessPoint:    c.endpoints,
		RequestTimeout: durationpb.New(c.timeout),
		UserAgent:      &v2.UA{Language: v2.Language_GOLANG, Version: v5ClientVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH, Hostname: host},
	}
}

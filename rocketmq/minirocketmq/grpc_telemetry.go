package minirocketmq

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Telemetry (bidirectional stream): a client opens it at start and sends
// its Settings; the answer is the settings as the server completes them
// (ClientActivity.processAndWriteClientSettings +
// GrpcClientSettingsManager):
//
//   - producers: backoff_policy {max_attempts 3, exponential 10 ms..1 s
//     ×2}, publishing.max_body_size = WithMaxMessageSize,
//     validate_message_type = WithGRPCMessageTypeCheck;
//   - consumers: subscription.receive_batch_size 32, long_polling_timeout
//     = the long-polling maximum (20 s), fifo = the group's
//     consumeMessageOrderly, backoff_policy {max_attempts = the group's
//     retryMaxTimes + 1, customized = the broker's delay levels};
//   - metric {on: false}.
//
// Topics and the group are validated (a bad one, or settings with neither
// publishing nor subscription, end the stream with INVALID_ARGUMENT, as the
// proxy does); a consumer's group is created when missing
// (autoCreateSubscriptionGroup). The stream then carries server commands:
// RecoverOrphanedTransactionCommand for the unresolved transactions of the
// topics a producer publishes (grpc_transaction.go). Thread stack traces
// and verify-message results from the client are accepted and dropped (this
// server never asks for them). The stream ends when the client closes it,
// or when the broker closes.

// telemetryStream is the server's side of one Telemetry stream: commands
// to send are queued and written by the stream's own goroutine, so nobody
// else ever blocks on a slow client.
type telemetryStream struct {
	clientID string
	out      chan *v2.TelemetryCommand
}

// telemetryQueue bounds the commands queued for one stream; beyond it new
// ones are dropped (a transaction check is sent again at its next
// interval).
const telemetryQueue = 64

// send queues cmd; false when the queue is full.
func (ts *telemetryStream) send(cmd *v2.TelemetryCommand) bool {
	select {
	case ts.out <- cmd:
		return true
	default:
		return false
	}
}

// Telemetry serves the stream.
func (s *grpcServer) Telemetry(stream v2.MessagingService_TelemetryServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	c, st := s.begin(ctx, nil)
	if st != nil {
		cancel()
		return stream.Send(&v2.TelemetryCommand{Status: st})
	}
	ts := &telemetryStream{clientID: c.clientID, out: make(chan *v2.TelemetryCommand, telemetryQueue)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the only writer of the stream
		defer wg.Done()
		for {
			select {
			case cmd := <-ts.out:
				if err := stream.Send(cmd); err != nil {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
		s.clients.dropStream(c.clientID, ts)
	}()
	for {
		cmd, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := s.telemetryCommand(ctx, ts, cmd); err != nil {
			return err
		}
	}
}

// telemetryCommand handles one command from the client; a non-nil error
// ends the stream with it.
func (s *grpcServer) telemetryCommand(ctx context.Context, ts *telemetryStream, cmd *v2.TelemetryCommand) error {
	settings := cmd.GetSettings()
	if settings == nil {
		return nil // thread stack trace, verify result, a bare status: nothing was asked
	}
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource { return settingsResources(c, settings) })
	if st != nil {
		ts.send(&v2.TelemetryCommand{Status: st})
		return nil
	}
	var (
		group  string
		topics []string
	)
	switch {
	case settings.GetPublishing() != nil:
		for _, r := range settings.GetPublishing().GetTopics() {
			t, st := c.topic(r)
			if st != nil {
				return telemetryError(st)
			}
			topics = append(topics, t)
		}
	case settings.GetSubscription() != nil:
		g, st := c.group(settings.GetSubscription().GetGroup())
		if st != nil {
			return telemetryError(st)
		}
		for _, e := range settings.GetSubscription().GetSubscriptions() {
			t, st := c.topic(e.GetTopic())
			if st != nil {
				return telemetryError(st)
			}
			if _, st := s.filter(t, e.GetExpression()); st != nil {
				return telemetryError(st)
			}
		}
		group = g
		s.b.groups.getOrCreate(g)
	default:
		return status.Error(codes.InvalidArgument, "there is no publishing or subscription data in settings")
	}
	s.clients.setSettings(c.clientID, proto.Clone(settings).(*v2.Settings), group, topics, ts)
	ts.send(&v2.TelemetryCommand{Status: okStatus(), Command: &v2.TelemetryCommand_Settings{Settings: s.completeSettings(settings, group)}})
	return nil
}

// telemetryError is processTelemetryException: a client error (4xxxx) ends
// the stream with INVALID_ARGUMENT, anything else with INTERNAL.
func telemetryError(st *v2.Status) error {
	code := codes.Internal
	if n := int32(st.GetCode()); n >= int32(v2.Code_BAD_REQUEST) && n < int32(v2.Code_INTERNAL_ERROR) {
		code = codes.InvalidArgument
	}
	return status.Error(code, "process client telemetryCommand failed. "+st.GetMessage())
}

// settingsResources is what a Settings command needs permissions on.
func settingsResources(c *v5Call, s *v2.Settings) []acl.GRPCResource {
	var out []acl.GRPCResource
	for _, t := range s.GetPublishing().GetTopics() {
		out = append(out, acl.GRPCResource{Name: c.wrap(t), Access: acl.AccessPub})
	}
	if sub := s.GetSubscription(); sub != nil {
		out = append(out, acl.GRPCResource{Name: c.wrap(sub.GetGroup()), Group: true, Access: acl.AccessSub})
		for _, e := range sub.GetSubscriptions() {
			out = append(out, acl.GRPCResource{Name: c.wrap(e.GetTopic()), Access: acl.AccessSub})
		}
	}
	return out
}

// Producer settings the proxy pushes (grpcClientProducer*).
const (
	producerMaxAttempts    = 3
	producerBackoffInitial = 10 * time.Millisecond
	producerBackoffMax     = time.Second
	producerBackoffFactor  = 2
	consumerBatchSize      = 32
)

// completeSettings returns the client's settings with the server's part
// filled in (mergeProducerData / mergeSubscriptionData / mergeMetric).
func (s *grpcServer) completeSettings(raw *v2.Settings, group string) *v2.Settings {
	out := proto.Clone(raw).(*v2.Settings)
	out.Metric = &v2.Metric{On: false}
	if pub := out.GetPublishing(); pub != nil {
		out.BackoffPolicy = &v2.RetryPolicy{
			MaxAttempts: producerMaxAttempts,
			Strategy: &v2.RetryPolicy_ExponentialBackoff{ExponentialBackoff: &v2.ExponentialBackoff{
				Initial: durationpb.New(producerBackoffInitial), Max: durationpb.New(producerBackoffMax), Multiplier: producerBackoffFactor,
			}},
		}
		pub.MaxBodySize = int32(s.b.cfg.maxMessageSize)
		pub.ValidateMessageType = !s.b.cfg.v5.noTypeCheck
		return out
	}
	if sub := out.GetSubscription(); sub != nil {
		gc := s.b.groups.getOrCreate(group)
		_, maxWait := s.b.cfg.v5.longPolling()
		batch, fifo := int32(consumerBatchSize), gc.ConsumeMessageOrderly
		sub.ReceiveBatchSize, sub.LongPollingTimeout, sub.Fifo = &batch, durationpb.New(maxWait), &fifo
		next := make([]*durationpb.Duration, 0, len(s.b.cfg.sem.delayLevels))
		for _, d := range s.b.cfg.sem.delayLevels {
			next = append(next, durationpb.New(d))
		}
		out.BackoffPolicy = &v2.RetryPolicy{
			MaxAttempts: int32(gc.RetryMaxTimes + 1),
			Strategy:    &v2.RetryPolicy_CustomizedBackoff{CustomizedBackoff: &v2.CustomizedBackoff{Next: next}},
		}
	}
	return out
}

package minirocketmq

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// Transactions over gRPC. SendMessage with message type TRANSACTION stores
// a half message (transactions.go, producer group = the topic) and answers
// a transaction_id that names it: "<offset message id of the half
// record>:<its queue offset>". EndTransaction (EndTransactionActivity)
// quotes it:
//
//   - topic validated; transaction_id empty → INVALID_TRANSACTION_ID
//     "transaction id cannot be empty", not one of ours →
//     INVALID_TRANSACTION_ID;
//   - COMMIT stores the message in its queue (a delivery timestamp is
//     honoured from then on), ROLLBACK drops it, anything else leaves it to
//     the check; a transaction that is not pending (resolved, discarded,
//     never prepared) → INTERNAL_SERVER_ERROR "cannot found transaction
//     data" (the proxy's text when it has no record of it); one of another
//     topic → INTERNAL_SERVER_ERROR with the broker's remark.
//
// Unresolved transactions are checked back as on the remoting side
// (WithTransactionCheckInterval ...): when the producer group (the topic)
// has no remoting producer connected, the check goes to the Telemetry
// stream of a gRPC producer of the topic as RecoverOrphanedTransactionCommand
// {message (as its consumers would see it), transaction_id}; the client
// answers with EndTransaction (source SERVER_CHECK).

// transactionID names a half message.
func transactionID(storeHost netip.AddrPort, commitLogOffset, queueOffset int64) string {
	return message.OffsetMsgID(storeHost, commitLogOffset) + ":" + strconv.FormatInt(queueOffset, 10)
}

func parseTransactionID(id string) (commitLogOffset, queueOffset int64, err error) {
	msgID, qo, ok := strings.Cut(id, ":")
	if !ok {
		return 0, 0, fmt.Errorf("transaction id %q: no queue offset", id)
	}
	if _, commitLogOffset, err = message.ParseOffsetMsgID(msgID); err != nil {
		return 0, 0, fmt.Errorf("transaction id %q: %w", id, err)
	}
	if queueOffset, err = strconv.ParseInt(qo, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("transaction id %q: %w", id, err)
	}
	return commitLogOffset, queueOffset, nil
}

// EndTransaction serves the RPC.
func (s *grpcServer) EndTransaction(ctx context.Context, req *v2.EndTransactionRequest) (*v2.EndTransactionResponse, error) {
	c, st := s.begin(ctx, func(c *v5Call) []acl.GRPCResource {
		return []acl.GRPCResource{{Name: c.wrap(req.GetTopic()), Access: acl.AccessPub}}
	})
	if st != nil {
		return &v2.EndTransactionResponse{Status: st}, nil
	}
	topic, st := c.topic(req.GetTopic())
	if st != nil {
		return &v2.EndTransactionResponse{Status: st}, nil
	}
	if strings.TrimSpace(req.GetTransactionId()) == "" {
		return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_INVALID_TRANSACTION_ID, "transaction id cannot be empty")}, nil
	}
	clo, qo, err := parseTransactionID(req.GetTransactionId())
	if err != nil {
		return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_INVALID_TRANSACTION_ID, err.Error())}, nil
	}
	var commit bool
	switch req.GetResolution() {
	case v2.TransactionResolution_COMMIT:
		commit = true
	case v2.TransactionResolution_ROLLBACK:
	default:
		return &v2.EndTransactionResponse{Status: okStatus()}, nil // unknown: the check will ask again
	}
	half, remark := s.b.sem.tx.take(clo, qo, topic)
	switch {
	case half == nil && remark == msgFindPreparedFailed:
		return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, "cannot found transaction data")}, nil
	case half == nil:
		return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, remark)}, nil
	}
	if commit {
		if err := s.b.commitTransaction(half); err != nil {
			s.b.sem.tx.add(half) // still pending: the check will ask again
			s.b.log.Logf(LogLevelError, "gRPC commit of transaction at %d for client %s: %v", clo, c.clientID, err)
			return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_INTERNAL_SERVER_ERROR, err.Error())}, nil
		}
	}
	if err := s.b.sem.tx.resolved(half); err != nil {
		s.b.log.Logf(LogLevelError, "%v", err)
	}
	if err := s.b.waitDurable(ctx); err != nil {
		return &v2.EndTransactionResponse{Status: grpcStatus(v2.Code_MASTER_PERSISTENCE_TIMEOUT, "flush: "+err.Error())}, nil
	}
	return &v2.EndTransactionResponse{Status: okStatus()}, nil
}

// grpcEndpoint returns the gRPC endpoint, nil when there is none (or before
// Start has made it).
func (b *Broker) grpcEndpoint() *grpcServer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.v5.grpc
}

// checkTransactionV5 sends the check of an unresolved transaction to a gRPC
// producer of its group (the topic, for gRPC producers), and reports
// whether one was there to ask (transactions.check falls back to its
// log line when not).
func (b *Broker) checkTransactionV5(h *halfMessage) bool {
	s := b.grpcEndpoint()
	if s == nil {
		return false
	}
	streams := s.clients.producerStreams(h.group)
	if len(streams) == 0 {
		return false
	}
	n, ok := b.sem.tx.countCheck(h.commitLogOffset)
	if !ok {
		return true // resolved meanwhile
	}
	m, err := b.sem.tx.sentRecord(h)
	if err != nil {
		b.log.Logf(LogLevelError, "transaction at %d: %v", h.commitLogOffset, err)
		return true
	}
	cmd := &v2.TelemetryCommand{Command: &v2.TelemetryCommand_RecoverOrphanedTransactionCommand{
		RecoverOrphanedTransactionCommand: &v2.RecoverOrphanedTransactionCommand{
			Message:       protoMessage(m, delivery{}),
			TransactionId: transactionID(b.storeHost, h.commitLogOffset, h.queueOffset),
		},
	}}
	for _, ts := range streams {
		if ts.send(cmd) {
			b.log.Logf(LogLevelDebug, "transaction at %d: check %d sent to gRPC client %s", h.commitLogOffset, n, ts.clientID)
			return true
		}
	}
	b.log.Logf(LogLevelWarn, "transaction at %d: check %d not sent, the Telemetry streams of the producers of %s are full", h.commitLogOffset, n, h.group)
	return true
}

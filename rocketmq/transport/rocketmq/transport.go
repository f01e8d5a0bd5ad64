package rocketmq

import (
	"github.com/go-kratos/kratos/v2/selector"
	"github.com/go-kratos/kratos/v2/transport"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// KindRocketMQ is the transport kind of RocketMQ servers.
const KindRocketMQ transport.Kind = "rocketmq"

var _ transport.Transporter = (*Transport)(nil)

// Transport describes the message being handled; handlers and middleware find it with
// transport.FromServerContext.
type Transport struct {
	endpoint    string
	operation   string
	reqHeader   headerCarrier
	replyHeader replyHeader
	nodeFilters []selector.NodeFilter

	event   broker.Event
	handler broker.Handler
}

// Kind returns KindRocketMQ.
func (tr *Transport) Kind() transport.Kind { return KindRocketMQ }

// Endpoint returns the server's endpoint (keep-alive URL or rocketmq://name-server).
func (tr *Transport) Endpoint() string { return tr.endpoint }

// Operation returns the topic of the message.
func (tr *Transport) Operation() string { return tr.operation }

// RequestHeader returns the message headers (properties plus the driver's keys).
func (tr *Transport) RequestHeader() transport.Header { return tr.reqHeader }

// ReplyHeader returns a header middleware may write to; nothing sends it anywhere.
func (tr *Transport) ReplyHeader() transport.Header { return &tr.replyHeader }

// NodeFilters returns the client select filters (always empty for a server).
func (tr *Transport) NodeFilters() []selector.NodeFilter { return tr.nodeFilters }

// Event returns the event being handled.
func (tr *Transport) Event() broker.Event { return tr.event }

// headerCarrier adapts message headers to transport.Header; it is the message's own map.
type headerCarrier broker.Headers

// Get returns the value of key.
func (hc headerCarrier) Get(key string) string { return hc[key] }

// Set stores key=value.
func (hc headerCarrier) Set(key, value string) { hc[key] = value }

// Add stores key=value; headers hold one value per key, so Add replaces.
func (hc headerCarrier) Add(key, value string) { hc[key] = value }

// Keys lists the keys.
func (hc headerCarrier) Keys() []string {
	keys := make([]string, 0, len(hc))
	for k := range hc {
		keys = append(keys, k)
	}
	return keys
}

// Values returns the value of key as a slice (nil when absent).
func (hc headerCarrier) Values(key string) []string {
	if v, ok := hc[key]; ok {
		return []string{v}
	}
	return nil
}

// replyHeader is a header that allocates its map on first write.
type replyHeader struct{ m map[string]string }

func (h *replyHeader) Get(key string) string { return h.m[key] }
func (h *replyHeader) Set(key, value string) {
	if h.m == nil {
		h.m = make(map[string]string)
	}
	h.m[key] = value
}
func (h *replyHeader) Add(key, value string) { h.Set(key, value) }
func (h *replyHeader) Keys() []string        { return headerCarrier(h.m).Keys() }
func (h *replyHeader) Values(key string) []string {
	return headerCarrier(h.m).Values(key)
}

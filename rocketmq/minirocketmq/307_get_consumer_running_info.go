package minirocketmq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_CONSUMER_RUNNING_INFO (307): what a consumer client reports about
// itself (subscriptions, per-queue cache and commit offset, per-topic
// rates, properties). The broker asks the client (broker → client, code
// 307) for Broker.ConsumerRunningInfo, and forwards the request of an admin
// tool (client → broker, the same code, as mqadmin consumerStatus and the
// dashboard send it) to the consumer and relays its answer
// (AdminBrokerProcessor.callConsumer).
//
// Honoured: consumerGroup, clientId, jstackEnable (passed on). A client that
// is not a live member of the group → SYSTEM_ERROR "The Consumer <group>
// <id> not online"; no answer within 10 s → CONSUME_MSG_TIMEOUT. The
// forwarded call runs in a goroutine of its own and the admin's request is
// answered when it ends.

// consumerCallTimeout is how long a call to a consumer client waits
// (Broker2Client.callClient).
const consumerCallTimeout = 10 * time.Second

// ErrConsumerNotOnline is returned by the consumer calls of the Go API
// when the client is not a live member of the group.
var ErrConsumerNotOnline = errors.New("minirocketmq: consumer not online")

// ConsumerRunningInfo is a consumer client's report about itself.
type ConsumerRunningInfo struct {
	// Properties are the client's settings (PROP_CONSUME_TYPE,
	// PROP_CONSUMEORDERLY, PROP_CONSUMER_START_TIMESTAMP,
	// PROP_NAMESERVER_ADDR, PROP_CLIENT_VERSION, ...).
	Properties    map[string]string
	Subscriptions []RunningSubscription
	// Queues is the client's view of each queue it consumes, sorted by
	// topic and queue id.
	Queues []RunningQueue
	// Status holds the consume rates per topic.
	Status map[string]ConsumeStatus
	// Raw is the client's answer as it came (JSON in fastjson's dialect:
	// the mqTable object has objects as keys).
	Raw []byte
}

// RunningSubscription is one subscription of a consumer client.
type RunningSubscription struct {
	Topic          string `json:"topic"`
	SubString      string `json:"subString"`
	ExpressionType string `json:"expressionType"`
	SubVersion     int64  `json:"subVersion"`
}

// RunningQueue is a consumer client's state of one queue.
type RunningQueue struct {
	Topic      string `json:"-"`
	BrokerName string `json:"-"`
	QueueID    int    `json:"-"`
	// CommitOffset is the offset the client will commit next.
	CommitOffset       int64 `json:"commitOffset"`
	CachedMsgMinOffset int64 `json:"cachedMsgMinOffset"`
	CachedMsgMaxOffset int64 `json:"cachedMsgMaxOffset"`
	CachedMsgCount     int   `json:"cachedMsgCount"`
	// Locked is set for the queues an orderly consumer holds.
	Locked               bool  `json:"locked"`
	Dropped              bool  `json:"dropped"`
	LastPullTimestamp    int64 `json:"lastPullTimestamp"`
	LastConsumeTimestamp int64 `json:"lastConsumeTimestamp"`
}

// UnmarshalJSON also reads the Java clients' spelling "droped".
func (q *RunningQueue) UnmarshalJSON(b []byte) error {
	type plain RunningQueue
	var v struct {
		plain
		Droped bool `json:"droped"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*q = RunningQueue(v.plain)
	q.Dropped = q.Dropped || v.Droped
	return nil
}

// ConsumeStatus is a consumer client's rates for one topic (per second,
// response times in ms).
type ConsumeStatus struct {
	PullRT            float64 `json:"pullRT"`
	PullTPS           float64 `json:"pullTPS"`
	ConsumeRT         float64 `json:"consumeRT"`
	ConsumeOKTPS      float64 `json:"consumeOKTPS"`
	ConsumeFailedTPS  float64 `json:"consumeFailedTPS"`
	ConsumeFailedMsgs int64   `json:"consumeFailedMsgs"`
}

// ConsumerRunningInfo asks a consumer client of group for its running
// info. clientID is one of ConsumerIDs(group). ctx bounds the wait (at
// most 10 s). The Go client cannot encode its info while one of its rates
// has a single sample (it samples every 10 s, so from about 10 s to 20 s
// after it started, and while a rate only has hourly samples; a rate is NaN
// then and it answers SUCCESS without a body, remark "json marshal error:
// ..."): that is an error here; ask again later.
func (b *Broker) ConsumerRunningInfo(ctx context.Context, group, clientID string) (*ConsumerRunningInfo, error) {
	req := remoting.NewRequest(remoting.GetConsumerRunningInfo,
		"consumerGroup", group, "clientId", clientID, "jstackEnable", "false")
	resp, err := b.callConsumer(ctx, group, clientID, req)
	if err != nil {
		return nil, err
	}
	if resp.Code != remoting.Success || len(resp.Body) == 0 {
		return nil, fmt.Errorf("minirocketmq: running info of %s in %s: code %d: %s", clientID, group, resp.Code, resp.Remark)
	}
	info, err := ParseConsumerRunningInfo(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: running info of %s in %s: %w", clientID, group, err)
	}
	return info, nil
}

// callConsumer sends req to the connection of a consumer group's member
// and waits for the answer. It must not run on the reader of that
// connection.
func (b *Broker) callConsumer(ctx context.Context, group, clientID string, req *remoting.Command) (*remoting.Command, error) {
	c, _ := b.clients.consumerConn(group, clientID)
	if c == nil {
		return nil, fmt.Errorf("%w: %s in group %s", ErrConsumerNotOnline, clientID, group)
	}
	ctx, cancel := context.WithTimeout(ctx, consumerCallTimeout)
	defer cancel()
	resp, err := c.Invoke(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("minirocketmq: call %s of group %s: %w", clientID, group, err)
	}
	return resp, nil
}

// handleGetConsumerRunningInfo serves code 307 from admin tools.
func (b *Broker) handleGetConsumerRunningInfo(c *conn, req *remoting.Command) (*remoting.Command, error) {
	return b.forwardToConsumer(c, req, nil), nil
}

// forwardToConsumer relays an admin's request to the consumer it names
// (consumerGroup, clientId), with body as its body when not nil and the
// ext fields set (key, value, ...) changed, and answers the admin with the
// consumer's response; it returns nil when the answer comes later.
func (b *Broker) forwardToConsumer(c *conn, req *remoting.Command, body []byte, set ...string) *remoting.Command {
	h := newHeader(req)
	group := h.str("consumerGroup", true)
	clientID := h.str("clientId", true)
	if resp := h.errResponse(); resp != nil {
		return resp
	}
	target, _ := b.clients.consumerConn(group, clientID)
	if target == nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgConsumerNotOnline, group, clientID))
	}
	fwd := remoting.NewRequest(req.Code)
	fwd.Ext = append(fwd.Ext, req.Ext...)
	for i := 0; i+1 < len(set); i += 2 {
		fwd.Set(set[i], set[i+1])
	}
	fwd.Body = body
	if body == nil {
		fwd.Body = req.Body
	}
	b.wg.Add(1) // the serving connection's goroutine is counted, so Close cannot be past Wait
	go b.guard(c, req, func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), consumerCallTimeout)
		answer, err := target.Invoke(ctx, fwd)
		cancel()
		var resp *remoting.Command
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			resp = remoting.NewResponse(req, remoting.ConsumeMsgTimeout, remarkf(msgConsumerTimeout, group, clientID, err))
		case err != nil:
			resp = remoting.NewResponse(req, remoting.SystemError, remarkf(msgInvokeConsumerFailed, group, clientID, err))
		default:
			resp = remoting.NewResponse(req, answer.Code, answer.Remark)
			resp.Ext, resp.Body = answer.Ext, answer.Body
		}
		if err := b.respond(c, req, resp); err != nil {
			_ = c.Close()
		}
	})
	return nil
}

// ParseConsumerRunningInfo decodes the body of a GET_CONSUMER_RUNNING_INFO
// answer as Go and Java clients encode it: JSON, except that mqTable is a
// map whose keys are MessageQueue objects (fastjson's dialect).
func ParseConsumerRunningInfo(body []byte) (*ConsumerRunningInfo, error) {
	fields, err := objectFields(body)
	if err != nil {
		return nil, err
	}
	info := &ConsumerRunningInfo{Raw: body, Properties: map[string]string{}, Status: map[string]ConsumeStatus{}}
	for key, dst := range map[string]any{"properties": &info.Properties, "subscriptionSet": &info.Subscriptions, "statusTable": &info.Status} {
		if raw, ok := fields[key]; ok && !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if raw, ok := fields["mqTable"]; ok {
		entries, err := objectFieldPairs(raw)
		if err != nil {
			return nil, fmt.Errorf("mqTable: %w", err)
		}
		for _, e := range entries {
			var mq messageQueue
			var q RunningQueue
			if err := json.Unmarshal(e[0], &mq); err != nil {
				return nil, fmt.Errorf("mqTable key %s: %w", e[0], err)
			}
			if err := json.Unmarshal(e[1], &q); err != nil {
				return nil, fmt.Errorf("mqTable value %s: %w", e[1], err)
			}
			q.Topic, q.BrokerName, q.QueueID = mq.Topic, mq.BrokerName, mq.QueueID
			info.Queues = append(info.Queues, q)
		}
		sort.Slice(info.Queues, func(i, j int) bool {
			a, b := info.Queues[i], info.Queues[j]
			if a.Topic != b.Topic {
				return a.Topic < b.Topic
			}
			return a.QueueID < b.QueueID
		})
	}
	return info, nil
}

// objectFields splits a JSON object (whose values may be objects with
// object keys) into its fields' raw values.
func objectFields(b []byte) (map[string][]byte, error) {
	pairs, err := objectFieldPairs(b)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(pairs))
	for _, p := range pairs {
		var key string
		if err := json.Unmarshal(p[0], &key); err != nil {
			return nil, fmt.Errorf("key %s: %w", p[0], err)
		}
		out[key] = p[1]
	}
	return out, nil
}

// objectFieldPairs splits an object into raw (key, value) pairs; keys may
// be any JSON value (fastjson writes maps with object keys that way).
func objectFieldPairs(b []byte) ([][2][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errors.New("not an object")
	}
	var out [][2][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for {
		k0 := skipSpace(b, i)
		k1, err := skipValue(b, k0)
		if err != nil {
			return nil, err
		}
		i = skipSpace(b, k1)
		if i >= len(b) || b[i] != ':' {
			return nil, fmt.Errorf("no ':' after key at %d", k0)
		}
		v0 := skipSpace(b, i+1)
		v1, err := skipValue(b, v0)
		if err != nil {
			return nil, err
		}
		out = append(out, [2][]byte{b[k0:k1], b[v0:v1]})
		i = skipSpace(b, v1)
		if i >= len(b) {
			return nil, errors.New("unterminated object")
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return out, nil
		default:
			return nil, fmt.Errorf("unexpected %q at %d", b[i], i)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the JSON value starting at b[i]:
// a string, an object or array (brackets counted, strings skipped), or a
// literal.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errors.New("unterminated object or array")
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("unexpected %q at %d", b[i], i)
		}
		return j, nil
	}
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

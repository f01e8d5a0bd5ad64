package rocketmq

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// HeaderMessageGroup is the header of a delivered message's message group (RocketMQ 5's
// FIFO group; the remoting protocol's sharding key property, which the v2 driver's
// handlers see under the same name).
const HeaderMessageGroup = primitive.PropertyShardingKey // "__SHARDINGKEY"

// delayLevels are RocketMQ's default delay levels (messageDelayLevel "1s 5s 10s 30s 1m
// 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"): the v5 driver turns WithDelayTimeLevel
// and WithRetryDelayLevel into these durations, the aliyun driver WithDelayTimeLevel.
var delayLevels = [...]time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute,
	7 * time.Minute, 8 * time.Minute, 9 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour,
}

// delayLevelDuration returns the duration of a delay level (1..18).
func delayLevelDuration(level int) (time.Duration, error) {
	if level < 1 || level > len(delayLevels) {
		return 0, fmt.Errorf("delay level %d: want 1..%d (1s .. 2h)", level, len(delayLevels))
	}
	return delayLevels[level-1], nil
}

// messageIDs generates message ids the way the SDKs do (version 01: 6 bytes of host
// identity, here random per generator; 2 bytes of the process id; seconds since
// 2021-01-01 UTC; a sequence number), so ids from several brokers of one process never
// collide. One per session.
type messageIDs struct {
	prefix string
	seq    atomic.Uint32
}

var idEpoch = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func newMessageIDs() *messageIDs {
	var b [8]byte
	_, _ = rand.Read(b[:6])
	binary.BigEndian.PutUint16(b[6:], uint16(os.Getpid()))
	return &messageIDs{prefix: "01" + strings.ToUpper(hex.EncodeToString(b[:]))}
}

func (g *messageIDs) next() string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(time.Since(idEpoch)/time.Second))
	binary.BigEndian.PutUint32(b[4:], g.seq.Add(1))
	return g.prefix + strings.ToUpper(hex.EncodeToString(b[:]))
}

var hostName = func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}()

// v5Message builds the protocol message of one body with the publish options. Options
// RocketMQ 5 reads differently: ShardingKey is the message group (FIFO), DelayLevel
// and DeliveryTime become the delivery timestamp (at most one of them, and not with a
// message group or a transaction: a message has one type).
func (p *v5Producer) v5Message(topic string, body []byte, o *broker.PublishOptions, now time.Time) (*v2.Message, error) {
	sp := &v2.SystemProperties{
		MessageId:     p.ses.ids.next(),
		MessageType:   v2.MessageType_NORMAL,
		BodyEncoding:  v2.Encoding_IDENTITY,
		BornHost:      hostName,
		BornTimestamp: timestamppb.New(now),
		Keys:          o.Keys,
	}
	if o.Tags != "" {
		tag := o.Tags
		sp.Tag = &tag
	}
	var types []string
	if o.ShardingKey != "" {
		g := o.ShardingKey
		sp.MessageGroup = &g
		sp.MessageType = v2.MessageType_FIFO
		types = append(types, "a message group (WithShardingKey/WithMessageGroup)")
	}
	switch {
	case o.DelayLevel > 0 && !o.DeliveryTime.IsZero():
		return nil, errors.New("both a delay level and a delivery time: give one")
	case o.DelayLevel > 0:
		d, err := delayLevelDuration(o.DelayLevel)
		if err != nil {
			return nil, fmt.Errorf("WithDelayTimeLevel: %w", err)
		}
		sp.DeliveryTimestamp = timestamppb.New(now.Add(d))
	case !o.DeliveryTime.IsZero():
		sp.DeliveryTimestamp = timestamppb.New(o.DeliveryTime)
	}
	if sp.DeliveryTimestamp != nil {
		sp.MessageType = v2.MessageType_DELAY
		types = append(types, "a delivery time (WithDelayTimeLevel/WithDeliveryTime)")
	}
	if o.Transaction != nil {
		sp.MessageType = v2.MessageType_TRANSACTION
		types = append(types, "a transaction (WithTransaction)")
	}
	if len(types) > 1 {
		return nil, fmt.Errorf("RocketMQ 5 messages have one type, this one has %s", strings.Join(types, " and "))
	}
	m := &v2.Message{Topic: p.ses.conn.resource(topic), SystemProperties: sp, Body: body}
	if len(o.Headers) > 0 {
		m.UserProperties = make(map[string]string, len(o.Headers)+2)
		for k, v := range o.Headers {
			m.UserProperties[k] = v
		}
	}
	return m, nil
}

// userPropsCarrier writes trace context into a message's user properties.
type userPropsCarrier struct{ m *v2.Message }

func (c userPropsCarrier) Get(k string) string { return c.m.GetUserProperties()[k] }
func (c userPropsCarrier) Set(k, v string) {
	if c.m.UserProperties == nil {
		c.m.UserProperties = make(map[string]string, 2)
	}
	c.m.UserProperties[k] = v
}
func (c userPropsCarrier) Keys() []string { return nil }

// v5Headers are the headers of a delivered message: its user properties, TAGS, KEYS
// (space-separated), the message group, and the driver's topic, message id and
// reconsume times (the delivery attempt - 1), as the v2 driver gives them.
func v5Headers(topic string, m *v2.Message, attempt int32) broker.Headers {
	sp := m.GetSystemProperties()
	h := make(broker.Headers, len(m.GetUserProperties())+6)
	for k, v := range m.GetUserProperties() {
		h[k] = v
	}
	if sp != nil && sp.Tag != nil {
		h[HeaderTags] = sp.GetTag()
	}
	if len(sp.GetKeys()) > 0 {
		h[HeaderKeys] = strings.Join(sp.GetKeys(), " ")
	}
	if g := sp.GetMessageGroup(); g != "" {
		h[HeaderMessageGroup] = g
	}
	h[HeaderTopic] = topic
	h[HeaderMessageID] = sp.GetMessageId()
	h[HeaderReconsumeTimes] = reconsumeString(attempt - 1)
	return h
}

// maxV5Body bounds a decompressed body (the proxy's limit for bodies it inflates).
const maxV5Body = 64 << 20

// errCorrupted marks a body whose digest does not match: a damaged transfer, retried.
var errCorrupted = errors.New("message body does not match its digest")

// v5Body returns a delivered message's body: checked against its digest when it has
// one, and decompressed when the server sent it GZIP-encoded.
func v5Body(m *v2.Message) ([]byte, error) {
	sp := m.GetSystemProperties()
	body := m.GetBody()
	if d := sp.GetBodyDigest(); d != nil && d.GetChecksum() != "" && !digestMatches(d, body) {
		return nil, fmt.Errorf("%w (%s %s)", errCorrupted, d.GetType(), d.GetChecksum())
	}
	if sp.GetBodyEncoding() != v2.Encoding_GZIP {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxV5Body+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(out) > maxV5Body {
		return nil, fmt.Errorf("gzip body: more than %d bytes decompressed", maxV5Body)
	}
	return out, nil
}

// digestMatches checks body against a digest (hex of any case; CRC32 as the SDKs write
// it, without leading zeros).
func digestMatches(d *v2.Digest, body []byte) bool {
	switch d.GetType() {
	case v2.DigestType_CRC32:
		want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 16)
		return strings.EqualFold(strings.TrimLeft(d.GetChecksum(), "0"), strings.TrimLeft(want, "0"))
	case v2.DigestType_MD5:
		sum := md5.Sum(body)
		return strings.EqualFold(d.GetChecksum(), hex.EncodeToString(sum[:]))
	case v2.DigestType_SHA1:
		sum := sha1.Sum(body)
		return strings.EqualFold(d.GetChecksum(), hex.EncodeToString(sum[:]))
	}
	return true // a digest type we do not know: nothing to check
}

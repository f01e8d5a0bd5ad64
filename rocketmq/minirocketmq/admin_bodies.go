package minirocketmq

import (
	"bytes"
	"encoding/json"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Bodies of the admin requests (mqadmin, the dashboard). The Java tools
// read them with fastjson, which writes maps keyed by a MessageQueue with
// the object itself as the key ({{"brokerName":..,"queueId":..,"topic":..}:
// value,...}); they fail on a missing field, so every field the Java class
// has is written, in fastjson's order (alphabetical). Shapes were compared
// with RocketMQ 4.9.4's answers to the same mqadmin commands.

// mqKey is a MessageQueue with its fields in fastjson's order.
type mqKey struct {
	BrokerName string `json:"brokerName"`
	QueueID    int    `json:"queueId"`
	Topic      string `json:"topic"`
}

// mqValue is one entry of a MessageQueue-keyed map.
type mqValue struct {
	topic   string
	queueID int
	value   any // marshalled with encoding/json
}

// offsetTableBody is {"offsetTable":{mq:value,...}}, the body of topic stats
// (202), reset answers (222) and reset pushes (220).
func (b *Broker) offsetTableBody(entries []mqValue) ([]byte, error) {
	body, err := b.appendMQMap([]byte(`{"offsetTable":`), entries)
	if err != nil {
		return nil, err
	}
	return append(body, '}'), nil
}

// appendMQMap appends {mq:value,...} in fastjson's dialect, sorted by
// topic and queue id.
func (b *Broker) appendMQMap(dst []byte, entries []mqValue) ([]byte, error) {
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].topic != entries[j].topic {
			return entries[i].topic < entries[j].topic
		}
		return entries[i].queueID < entries[j].queueID
	})
	dst = append(dst, '{')
	for i, e := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, err := json.Marshal(mqKey{BrokerName: b.cfg.brokerName, QueueID: e.queueID, Topic: e.topic})
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.value)
		if err != nil {
			return nil, err
		}
		dst = append(append(append(dst, k...), ':'), v...)
	}
	return append(dst, '}'), nil
}

// jsonResponse answers req with SUCCESS and v as JSON (SYSTEM_ERROR when v
// does not encode).
func jsonResponse(req *remoting.Command, v any) *remoting.Command {
	body, err := json.Marshal(v)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error())
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp
}

// propertiesText renders key=value lines sorted by key, the body of
// GET_BROKER_CONFIG and GET_NAMESRV_CONFIG (MixAll.properties2String).
func propertiesText(props map[string]string) []byte {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		buf.WriteString(k)
		buf.WriteByte('=')
		buf.WriteString(props[k])
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// parseProperties reads key=value lines (MixAll.string2Properties: # and !
// comments, = or : separators).
func parseProperties(text string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, _ = strings.Cut(line, ":")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// connectionInfo is Connection, one client connection of a group.
type connectionInfo struct {
	ClientAddr string `json:"clientAddr"`
	ClientID   string `json:"clientId"`
	Language   string `json:"language"`
	Version    int    `json:"version"`
}

// subscriptionData is SubscriptionData as the Java tools read it.
type subscriptionData struct {
	ClassFilterMode bool     `json:"classFilterMode"`
	CodeSet         []int32  `json:"codeSet"`
	ExpressionType  string   `json:"expressionType"`
	SubString       string   `json:"subString"`
	SubVersion      int64    `json:"subVersion"`
	TagsSet         []string `json:"tagsSet"`
	Topic           string   `json:"topic"`
}

func (s *subscription) data() subscriptionData {
	d := subscriptionData{CodeSet: []int32{}, ExpressionType: s.ExpressionType, SubString: s.SubString, SubVersion: s.SubVersion, TagsSet: []string{}, Topic: s.Topic}
	if d.SubString == "" {
		d.SubString = subscribeAll
	}
	if s.ExpressionType == ExpressionTag {
		for _, t := range s.Tags {
			d.TagsSet = append(d.TagsSet, t)
			d.CodeSet = append(d.CodeSet, int32(message.JavaStringHash(t)))
		}
	}
	return d
}

// groupSnapshot is what the registry knows of a consumer group.
type groupSnapshot struct {
	consumeType, messageModel, consumeFromWhere string
	members                                     []connectionInfo
	subs                                        []*subscription
}

// consumerGroup returns a snapshot of a group with live members; false
// when none is connected.
func (r *clientRegistry) consumerGroupSnapshot(group string) (groupSnapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.consumers[group]
	if g == nil || len(g.members) == 0 {
		return groupSnapshot{}, false
	}
	s := groupSnapshot{consumeType: g.consumeType, messageModel: g.messageModel, consumeFromWhere: g.consumeFromWhere}
	for c, ch := range g.members {
		s.members = append(s.members, connectionInfo{ClientAddr: c.RemoteAddr().String(), ClientID: ch.clientID, Language: ch.language, Version: int(ch.version)})
	}
	sort.Slice(s.members, func(i, j int) bool { return s.members[i].ClientID < s.members[j].ClientID })
	for _, sub := range g.subs {
		s.subs = append(s.subs, sub)
	}
	sort.Slice(s.subs, func(i, j int) bool { return s.subs[i].Topic < s.subs[j].Topic })
	return s, true
}

// producerConnections returns the live connections of a producer group;
// false when the group has none.
func (r *clientRegistry) producerConnections(group string) ([]connectionInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.producers[group]
	if len(m) == 0 {
		return nil, false
	}
	out := make([]connectionInfo, 0, len(m))
	for c, ch := range m {
		out = append(out, connectionInfo{ClientAddr: c.RemoteAddr().String(), ClientID: ch.clientID, Language: ch.language, Version: int(ch.version)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, true
}

// groupsSubscribing returns the consumer groups whose live members
// subscribe topic (ConsumerManager.queryTopicConsumeByWho).
func (r *clientRegistry) groupsSubscribing(topic string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name, g := range r.consumers {
		if g.subs[topic] != nil {
			out = append(out, name)
		}
	}
	return out
}

func itoaInt(n int) string { return strconv.Itoa(n) }

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b...)
}

// appendJSONFloat appends f as fastjson writes a double: always with a
// fraction ("0.0", "2.5").
func appendJSONFloat(dst []byte, f float64) []byte {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEN") {
		s += ".0"
	}
	return append(dst, s...)
}

// splitPort splits "host:port"; the port is "" when addr has none.
func splitPort(addr string) (string, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return host, port
}

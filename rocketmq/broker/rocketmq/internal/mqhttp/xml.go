package mqhttp

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// The XML bodies of the API.

type xmlPublish struct {
	XMLName    xml.Name `xml:"Message"`
	Body       string   `xml:"MessageBody"`
	Tag        string   `xml:"MessageTag,omitempty"`
	Properties string   `xml:"Properties,omitempty"`
}

type xmlPublishResult struct {
	XMLName        xml.Name `xml:"Message"`
	MessageID      string   `xml:"MessageId"`
	MessageBodyMD5 string   `xml:"MessageBodyMD5"`
	ReceiptHandle  string   `xml:"ReceiptHandle"`
}

type xmlMessages struct {
	XMLName  xml.Name     `xml:"Messages"`
	Messages []xmlMessage `xml:"Message"`
}

type xmlMessage struct {
	MessageID        string `xml:"MessageId"`
	ReceiptHandle    string `xml:"ReceiptHandle"`
	MessageBodyMD5   string `xml:"MessageBodyMD5"`
	MessageBody      string `xml:"MessageBody"`
	PublishTime      int64  `xml:"PublishTime"`
	FirstConsumeTime int64  `xml:"FirstConsumeTime"`
	NextConsumeTime  int64  `xml:"NextConsumeTime"`
	ConsumedTimes    int    `xml:"ConsumedTimes"`
	MessageTag       string `xml:"MessageTag"`
	Properties       string `xml:"Properties"`
}

type xmlHandles struct {
	XMLName xml.Name `xml:"ReceiptHandles"`
	Handles []string `xml:"ReceiptHandle"`
}

type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

type xmlAckErrors struct {
	XMLName xml.Name `xml:"Errors"`
	Errors  []struct {
		ErrorCode     string `xml:"ErrorCode"`
		ErrorMessage  string `xml:"ErrorMessage"`
		ReceiptHandle string `xml:"ReceiptHandle"`
	} `xml:"Error"`
}

// Properties of the API.
const (
	PropKeys             = "KEYS"               // the message keys, space-separated
	PropShardingKey      = "__SHARDINGKEY"      // the partition of an ordered message
	PropStartDeliverTime = "__STARTDELIVERTIME" // ms since the epoch: a timed message
	PropTransCheck       = "__TransCheckT"      // seconds to the first check: a transactional message
	// PropBodyEncoding "base64" marks a body carried base64-encoded. It is the embedded
	// broker's convention (minirocketmq.HTTPPropertyBodyEncoding), not Aliyun's: the
	// embedded endpoint decodes such a body before storing it and encodes a stored body
	// XML cannot carry; on Aliyun it is an ordinary property.
	PropBodyEncoding = "__BODYENCODING"
)

// EncodeProperties writes properties as the API carries them, "k:v|k:v|", in key
// order. A key or value with a character the format or the SDK refuses (: | ' " < > &,
// or what XML cannot carry) is an error naming the key.
func EncodeProperties(p map[string]string) (string, error) {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := p[k]
		if k == "" || !PropertyOK(k) || !PropertyOK(v) {
			return "", fmt.Errorf("property %q: keys and values cannot contain : | ' \" < > & or control characters (the HTTP API's properties format)", k)
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('|')
	}
	return b.String(), nil
}

// PropertyOK reports whether s can be a property key or value of the API.
func PropertyOK(s string) bool {
	return !strings.ContainsAny(s, ":|'\"<>&") && XMLText(s) && !strings.ContainsAny(s, "\t\n\r")
}

// DecodeProperties reads "k:v|k:v|" as the SDK does: pairs without exactly one ':'
// or with an empty key or value are skipped.
func DecodeProperties(s string) map[string]string {
	out := make(map[string]string)
	for _, kv := range strings.Split(s, "|") {
		parts := strings.Split(kv, ":")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			continue
		}
		out[parts[0]] = parts[1]
	}
	return out
}

// EncodeBody returns a body as the XML can carry it: as text when it is XML text, else
// base64 with base64 true (set PropBodyEncoding then).
func EncodeBody(b []byte) (text string, base64Encoded bool) {
	if s := string(b); XMLText(s) {
		return s, false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// DecodeBody returns a consumed message's body: base64-decoded when its properties
// carry PropBodyEncoding "base64".
func DecodeBody(m *Message) ([]byte, error) {
	if m.Properties[PropBodyEncoding] != "base64" {
		return []byte(m.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(m.Body)
	if err != nil {
		return nil, fmt.Errorf("message %s: body marked base64 does not decode: %w", m.ID, err)
	}
	return b, nil
}

// XMLText reports whether s is text an XML 1.0 document can carry.
func XMLText(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000) {
			return false
		}
		i += n
	}
	return true
}

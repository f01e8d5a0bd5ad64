package minirocketmq

import (
	"encoding/xml"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The XML bodies of the Aliyun MQ HTTP API (aliyunmq/mq-http-go-sdk
// message.go), its error codes (Aliyun's "Error codes for the HTTP client
// SDK", which are MNS's) and the properties string.

// httpNamespace is the XML namespace of the API's response bodies.
const httpNamespace = "http://mq.aliyuncs.com/doc/v1/"

// httpAPIVersion is the x-mq-version every request and response carries.
const httpAPIVersion = "2015-06-06"

// Error codes and their HTTP statuses (the SDK reads the code from the
// body; the status only tells success from failure).
type httpErrorCode struct {
	code   string
	status int
}

var (
	errHTTPAccessDenied        = httpErrorCode{"AccessDenied", http.StatusForbidden}
	errHTTPInvalidAccessKeyID  = httpErrorCode{"InvalidAccessKeyId", http.StatusForbidden}
	errHTTPSignature           = httpErrorCode{"SignatureDoesNotMatch", http.StatusForbidden}
	errHTTPInternal            = httpErrorCode{"InternalError", http.StatusInternalServerError}
	errHTTPInvalidAuthHeader   = httpErrorCode{"InvalidAuthorizationHeader", http.StatusBadRequest}
	errHTTPInvalidDateHeader   = httpErrorCode{"InvalidDateHeader", http.StatusBadRequest}
	errHTTPInvalidArgument     = httpErrorCode{"InvalidArgument", http.StatusBadRequest}
	errHTTPInvalidDigest       = httpErrorCode{"InvalidDigest", http.StatusBadRequest}
	errHTTPInvalidRequestURL   = httpErrorCode{"InvalidRequestURL", http.StatusBadRequest}
	errHTTPInvalidQueryString  = httpErrorCode{"InvalidQueryString", http.StatusBadRequest}
	errHTTPMalformedXML        = httpErrorCode{"MalformedXML", http.StatusBadRequest}
	errHTTPMissingAuthHeader   = httpErrorCode{"MissingAuthorizationHeader", http.StatusBadRequest}
	errHTTPMissingDateHeader   = httpErrorCode{"MissingDateHeader", http.StatusBadRequest}
	errHTTPMissingReceipt      = httpErrorCode{"MissingReceiptHandle", http.StatusBadRequest}
	errHTTPReceiptHandle       = httpErrorCode{"ReceiptHandleError", http.StatusBadRequest}
	errHTTPMessageNotExist     = httpErrorCode{"MessageNotExist", http.StatusNotFound}
	errHTTPTopicNotExist       = httpErrorCode{"TopicNotExist", http.StatusNotFound}
	errHTTPTimeExpired         = httpErrorCode{"TimeExpired", http.StatusRequestTimeout}
	errHTTPServiceShuttingDown = httpErrorCode{"InternalError", http.StatusServiceUnavailable}
)

// Error messages the API answers with (the documented texts).
const (
	msgHTTPMessageNotExist   = "Message not exist."
	msgHTTPReceiptHandle     = "The receipt handle you provide is not valid."
	msgHTTPReceiptExpired    = "The receipt handle you provide is expired."
	msgHTTPSignature         = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgHTTPInvalidAccessKey  = "The AccessKey Id you provided is not exist."
	msgHTTPMissingAuth       = "Authorization header is required."
	msgHTTPInvalidAuth       = "The Authorization header format is invalid."
	msgHTTPMissingDate       = "Date header is required."
	msgHTTPInvalidDate       = "The Date header format is invalid."
	msgHTTPTimeExpired       = "The http request you sent is expired."
	msgHTTPInvalidDigest     = "The Content-MD5 you specified is invalid."
	msgHTTPInvalidRequestURL = "Http request URL format invalid."
	msgHTTPMalformedXML      = "The XML you provided was not well-formed."
	msgHTTPMissingReceipt    = "ReceiptHandle is required."
	msgHTTPTopicNotExist     = "The topic you provided does not exist."
	msgHTTPInternal          = "Interal error." // sic: the documented text
)

// httpErrorBody is an error response.
type httpErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	XMLNS     string   `xml:"xmlns,attr"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// httpPublishRequest is the body of a publish (PublishMessageRequest).
// Pointers tell a missing element from an empty one.
type httpPublishRequest struct {
	XMLName     xml.Name `xml:"Message"`
	MessageBody *string  `xml:"MessageBody"`
	MessageTag  string   `xml:"MessageTag"`
	Properties  string   `xml:"Properties"`
}

// httpPublishResponse answers a publish (PublishMessageResponse);
// ReceiptHandle only for transactional messages.
type httpPublishResponse struct {
	XMLName        xml.Name `xml:"Message"`
	XMLNS          string   `xml:"xmlns,attr"`
	MessageID      string   `xml:"MessageId"`
	MessageBodyMD5 string   `xml:"MessageBodyMD5"`
	ReceiptHandle  string   `xml:"ReceiptHandle,omitempty"`
}

// httpMessages answers a consume (ConsumeMessageResponse).
type httpMessages struct {
	XMLName  xml.Name       `xml:"Messages"`
	XMLNS    string         `xml:"xmlns,attr"`
	Messages []httpMessageX `xml:"Message"`
}

// httpMessageX is one consumed message (ConsumeMessageEntry). Times are
// milliseconds since the epoch.
type httpMessageX struct {
	MessageID        string `xml:"MessageId"`
	ReceiptHandle    string `xml:"ReceiptHandle"`
	MessageBodyMD5   string `xml:"MessageBodyMD5"`
	MessageBody      string `xml:"MessageBody"`
	PublishTime      int64  `xml:"PublishTime"`
	FirstConsumeTime int64  `xml:"FirstConsumeTime"`
	NextConsumeTime  int64  `xml:"NextConsumeTime"`
	ConsumedTimes    int    `xml:"ConsumedTimes"`
	MessageTag       string `xml:"MessageTag,omitempty"`
	Properties       string `xml:"Properties,omitempty"`
}

// httpReceiptHandles is the body of an ack, commit or rollback.
type httpReceiptHandles struct {
	XMLName xml.Name `xml:"ReceiptHandles"`
	Handles []string `xml:"ReceiptHandle"`
}

// httpAckErrors answers an ack some of whose handles failed
// (AckMessageErrorResponse); the others were acknowledged.
type httpAckErrors struct {
	XMLName xml.Name       `xml:"Errors"`
	XMLNS   string         `xml:"xmlns,attr"`
	Errors  []httpAckError `xml:"Error"`
}

type httpAckError struct {
	ErrorCode     string `xml:"ErrorCode"`
	ErrorMessage  string `xml:"ErrorMessage"`
	ReceiptHandle string `xml:"ReceiptHandle"`
}

// Properties of the API (message.go of the SDK): they travel in the
// Properties element as "key:value|key:value|", so neither may contain
// ':' or '|' (the SDK refuses ' " < > & too, which XML escaping would
// carry).
const (
	httpPropStartDeliverTime = "__STARTDELIVERTIME" // ms since the epoch: a timed message
	httpPropTransCheck       = "__TransCheckT"      // seconds to the first check: a transactional message
	httpPropKeys             = "KEYS"
	httpPropShardingKey      = "__SHARDINGKEY"
	// HTTPPropertyBodyEncoding marks a body carried base64-encoded (value
	// "base64"): XML cannot carry every byte string, so the endpoint sends
	// a stored body that is not XML text (binary, or sent compressed by a
	// remoting client and not inflatable) that way, and a publish marked so
	// is stored decoded. This is the embedded endpoint's own convention,
	// not Aliyun's; the driver in broker/rocketmq speaks it.
	HTTPPropertyBodyEncoding = "__BODYENCODING"
)

// parseHTTPProperties reads a Properties element. A pair without exactly
// one ':' or with an empty key is refused (the SDK cannot write one).
func parseHTTPProperties(s string) (map[string]string, string) {
	props := make(map[string]string)
	for _, kv := range strings.Split(s, "|") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" || strings.Contains(v, ":") {
			return nil, "the Properties element is not key:value|key:value|: " + quoteShort(kv)
		}
		if _, dup := props[k]; dup {
			return nil, "property " + quoteShort(k) + " is given twice"
		}
		props[k] = v
	}
	return props, ""
}

// appendHTTPProperty adds one pair to a Properties element unless the API
// cannot carry it, and reports whether it did.
func appendHTTPProperty(b *strings.Builder, k, v string) bool {
	if k == "" || strings.ContainsAny(k, ":|") || strings.ContainsAny(v, ":|") || !xmlText(k) || !xmlText(v) {
		return false
	}
	b.WriteString(k)
	b.WriteByte(':')
	b.WriteString(v)
	b.WriteByte('|')
	return true
}

// xmlText reports whether s is text an XML 1.0 document can carry: valid
// UTF-8 of the characters the Char production allows.
func xmlText(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if !xmlChar(r) {
			return false
		}
		i += n
	}
	return true
}

func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// quoteShort quotes s for an error message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

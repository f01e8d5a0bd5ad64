package message

import "strings"

// Property keys (MessageConst) the broker reads or writes.
const (
	PropertyKeys                  = "KEYS"
	PropertyTags                  = "TAGS"
	PropertyWaitStoreMsgOK        = "WAIT"
	PropertyDelayTimeLevel        = "DELAY"
	PropertyRetryTopic            = "RETRY_TOPIC"
	PropertyRealTopic             = "REAL_TOPIC"
	PropertyRealQueueID           = "REAL_QID"
	PropertyTransactionPrepared   = "TRAN_MSG"
	PropertyProducerGroup         = "PGROUP"
	PropertyMinOffset             = "MIN_OFFSET"
	PropertyMaxOffset             = "MAX_OFFSET"
	PropertyOriginMessageID       = "ORIGIN_MESSAGE_ID"
	PropertyUniqueClientMsgIDKey  = "UNIQ_KEY"
	PropertyReconsumeTime         = "RECONSUME_TIME"
	PropertyMaxReconsumeTimes     = "MAX_RECONSUME_TIMES"
	PropertyMsgRegion             = "MSG_REGION"
	PropertyTraceSwitch           = "TRACE_ON"
	PropertyCluster               = "CLUSTER"
	PropertyCorrelationID         = "CORRELATION_ID"
	PropertyReplyToClient         = "REPLY_TO_CLIENT"
	PropertyMessageTTL            = "TTL"
	PropertyMsgType               = "MSG_TYPE"
	PropertyTransactionCheckTimes = "TRANSACTION_CHECK_TIMES"
)

// Separators of the properties string: name 0x01 value 0x02, repeated, the
// last pair also followed by 0x02 (MessageDecoder.NAME_VALUE_SEPARATOR and
// PROPERTY_SEPARATOR).
const (
	NameValueSeparator = '\x01'
	PropertySeparator  = '\x02'
)

// KeySeparator separates several keys in the KEYS property.
const KeySeparator = " "

// Property returns the value of key in an encoded properties string without
// building a map. Like the clients' parsers it ignores entries that do not
// have exactly one name/value separator.
func Property(props, key string) (string, bool) {
	for len(props) > 0 {
		end := strings.IndexByte(props, PropertySeparator)
		entry := props
		if end >= 0 {
			entry, props = props[:end], props[end+1:]
		} else {
			props = ""
		}
		sep := strings.IndexByte(entry, NameValueSeparator)
		if sep < 0 || strings.IndexByte(entry[sep+1:], NameValueSeparator) >= 0 {
			continue
		}
		if entry[:sep] == key {
			return entry[sep+1:], true
		}
	}
	return "", false
}

// PropertyBytes is Property for a properties slice taken from a record. The
// returned value aliases props.
func PropertyBytes(props []byte, key string) ([]byte, bool) {
	for len(props) > 0 {
		entry := props
		if end := indexByte(props, PropertySeparator); end >= 0 {
			entry, props = props[:end], props[end+1:]
		} else {
			props = nil
		}
		sep := indexByte(entry, NameValueSeparator)
		if sep < 0 || indexByte(entry[sep+1:], NameValueSeparator) >= 0 {
			continue
		}
		if string(entry[:sep]) == key {
			return entry[sep+1:], true
		}
	}
	return nil, false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// ParseProperties decodes a properties string into a map.
func ParseProperties(props string) map[string]string {
	m := make(map[string]string)
	for _, entry := range strings.Split(props, string(PropertySeparator)) {
		kv := strings.Split(entry, string(NameValueSeparator))
		if len(kv) == 2 {
			m[kv[0]] = kv[1]
		}
	}
	return m
}

// AppendProperty appends one name/value pair, with its trailing separator.
func AppendProperty(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, NameValueSeparator)
	dst = append(dst, value...)
	return append(dst, PropertySeparator)
}

// EditProperties returns props without the entries named in drop and with
// the set pairs (key, value, key, value, ...) appended, replacing entries of
// the same name. Entries keep their order; the result ends with a separator
// when it is not empty.
func EditProperties(props string, drop []string, set ...string) string {
	out := make([]byte, 0, len(props)+32)
	rest := props
	for len(rest) > 0 {
		entry := rest
		if end := strings.IndexByte(rest, PropertySeparator); end >= 0 {
			entry, rest = rest[:end], rest[end+1:]
		} else {
			rest = ""
		}
		if entry == "" {
			continue
		}
		name := entry
		if sep := strings.IndexByte(entry, NameValueSeparator); sep >= 0 {
			name = entry[:sep]
		}
		if contains(drop, name) || setContains(set, name) {
			continue
		}
		out = append(out, entry...)
		out = append(out, PropertySeparator)
	}
	for i := 0; i+1 < len(set); i += 2 {
		out = AppendProperty(out, set[i], set[i+1])
	}
	return string(out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func setContains(kv []string, s string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == s {
			return true
		}
	}
	return false
}

// Keys splits the KEYS property into its keys.
func Keys(props string) []string {
	v, ok := Property(props, PropertyKeys)
	if !ok {
		return nil
	}
	return strings.Fields(v)
}

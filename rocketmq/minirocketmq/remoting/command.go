package remoting

import "strconv"

// Field is one entry of a command's extFields. Values are always strings on
// the wire (the Go client cannot decode anything else).
type Field struct {
	Key, Value string
}

// Command is one remoting frame, request or response.
//
// Ext keeps extFields in arrival order as a slice rather than a map: headers
// carry a dozen short fields, a linear scan is faster than hashing, and
// decoding allocates nothing per field (keys and values share the memory of
// the decoded header). Body aliases the frame it was read from; a handler
// that keeps it past its return must not modify it (nobody else does).
type Command struct {
	Code     int16
	Language string // "JAVA", "GO", ...; responses built here say "JAVA"
	Version  int16
	Opaque   int32
	Flag     int32
	Remark   string
	Ext      []Field
	Body     []byte

	// SerializeType is the header encoding the command arrived in
	// (SerializeJSON or SerializeRocketMQ). Commands are always written as
	// JSON, which every client decodes.
	SerializeType byte
}

// ServerVersion is the version the broker puts in its commands: the ordinal
// of MQVersion.V4_9_4, what a real 4.9.4 broker sends.
const ServerVersion int16 = 401

// NewRequest returns a request command with the given code and ext fields,
// given as key, value pairs. The opaque is assigned when it is sent with
// Conn.Invoke.
func NewRequest(code int16, kv ...string) *Command {
	c := &Command{Code: code, Language: "JAVA", Version: ServerVersion}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Ext = append(c.Ext, Field{kv[i], kv[i+1]})
	}
	return c
}

// NewResponse returns the response to req with the given code and remark:
// the opaque is copied and the response flag set.
func NewResponse(req *Command, code int16, remark string) *Command {
	return &Command{
		Code:     code,
		Language: "JAVA",
		Version:  ServerVersion,
		Opaque:   req.Opaque,
		Flag:     FlagResponse,
		Remark:   remark,
	}
}

// IsResponse reports whether the response flag bit is set.
func (c *Command) IsResponse() bool { return c.Flag&FlagResponse != 0 }

// IsOneway reports whether the oneway flag bit is set (Java clients only).
func (c *Command) IsOneway() bool { return c.Flag&FlagOneway != 0 }

// Get returns the ext field key, or "" when it is absent.
func (c *Command) Get(key string) string {
	v, _ := c.Lookup(key)
	return v
}

// Lookup returns the ext field key and whether it is present.
func (c *Command) Lookup(key string) (string, bool) {
	for i := range c.Ext {
		if c.Ext[i].Key == key {
			return c.Ext[i].Value, true
		}
	}
	return "", false
}

// Set sets the ext field key to value, replacing an existing entry.
func (c *Command) Set(key, value string) {
	for i := range c.Ext {
		if c.Ext[i].Key == key {
			c.Ext[i].Value = value
			return
		}
	}
	c.Ext = append(c.Ext, Field{key, value})
}

// SetInt sets the ext field key to the decimal form of v.
func (c *Command) SetInt(key string, v int64) { c.Set(key, strconv.FormatInt(v, 10)) }

// Int parses the ext field key as a decimal integer. A missing field yields
// (0, false, nil); a malformed one an error naming the field.
func (c *Command) Int(key string) (int64, bool, error) {
	v, ok := c.Lookup(key)
	if !ok || v == "" || v == "null" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, true, &FieldError{Field: key, Value: v}
	}
	return n, true, nil
}

// Bool parses the ext field key like Java's Boolean.parseBoolean: only
// "true" (any case) is true.
func (c *Command) Bool(key string) bool {
	v := c.Get(key)
	return len(v) == 4 && (v[0]|0x20) == 't' && (v[1]|0x20) == 'r' && (v[2]|0x20) == 'u' && (v[3]|0x20) == 'e'
}

// FieldError reports an ext field whose value does not parse.
type FieldError struct {
	Field, Value string
}

// Error names the field and its value.
func (e *FieldError) Error() string {
	return "ext field " + e.Field + " has a malformed value " + strconv.Quote(e.Value)
}

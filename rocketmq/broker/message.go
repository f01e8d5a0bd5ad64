package broker

// Any is a message body: a value for the codec, or raw []byte / string.
type Any = any

// Binder returns a new value (a pointer) to decode one message body into.
type Binder func() Any

// Headers are the string properties of a message. On delivery drivers add their own
// keys (the RocketMQ driver: topic, tags, keys, message id, reconsume times).
type Headers map[string]string

// Get returns the value of key, or "" (also on a nil map).
func (h Headers) Get(key string) string { return h[key] }

// Batch is a body for Publish that sends each element as its own message in one batch
// request (all to the same topic, with the same options).
type Batch []Any

// Message is one delivered (or published) message.
type Message struct {
	// Headers are the message properties.
	Headers Headers
	// Body is the decoded body (the binder's value) or the raw []byte.
	Body Any
	// Partition is the queue id the message was stored in.
	Partition int
	// Offset is the message's offset in that queue.
	Offset int64
	// Msg is the driver's raw message (*primitive.MessageExt for RocketMQ).
	Msg Any
}

// GetHeaders returns the headers (nil when there are none).
func (m Message) GetHeaders() Headers { return m.Headers }

// GetHeader returns the header key, or "".
func (m Message) GetHeader(key string) string { return m.Headers[key] }

// PublishResult describes a message the broker accepted.
type PublishResult struct {
	// ID is the message id handlers see (RocketMQ: the client-generated unique key).
	ID string
	// Topic is the topic the message went to.
	Topic string
	// Partition is the queue id the broker stored it in.
	Partition int
	// Offset is the queue offset the broker assigned.
	Offset int64
}

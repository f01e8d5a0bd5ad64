package broker

// Subscriber is one active subscription.
type Subscriber interface {
	// Options returns the options the subscription was made with.
	Options() SubscribeOptions
	// Topic returns the subscribed topic.
	Topic() string
	// Unsubscribe stops the subscription; removeFromManager also forgets it in the
	// broker (false keeps the broker's bookkeeping, as when the broker itself is closing).
	// A driver with no bookkeeping apart from the running subscription refuses false
	// with an error rather than ignoring the flag.
	Unsubscribe(removeFromManager bool) error
}

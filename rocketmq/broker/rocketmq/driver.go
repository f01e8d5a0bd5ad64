package rocketmq

import (
	"context"
	"errors"
	"fmt"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// DriverType names the RocketMQ client a broker is built on.
type DriverType string

const (
	// DriverTypeAliyun is Aliyun's MQ HTTP API (Message Queue for Apache RocketMQ 4.x
	// instances, and the embedded broker's WithHTTPAddr endpoint) on this package's own
	// HTTP client (AliyunBroker): WithNameServer names the instance's HTTP endpoint
	// ("http://host[:port]"), WithNamespace its instance id.
	DriverTypeAliyun DriverType = "aliyun"
	// DriverTypeV2 is github.com/apache/rocketmq-client-go/v2 (remoting protocol, RocketMQ 4.x and 5.x).
	DriverTypeV2 DriverType = "v2"
	// DriverTypeV5 is this package's own client of the RocketMQ 5 proxy's gRPC API
	// (V5Broker): WithNameServer names the proxies' gRPC endpoints ("host:8081").
	DriverTypeV5 DriverType = "v5"
)

// ErrDriverUnavailable is wrapped by the error of a driver type this build does not include.
var ErrDriverUnavailable = errors.New("rocketmq driver not available in this build")

// NewBroker returns a broker for driverType, initialised with opts. For a driver this
// build does not include, an unknown one or options the driver refuses, it
// returns an error and a Broker whose every method fails with that error, so a caller
// that keeps the value never gets a nil panic.
func NewBroker(driverType DriverType, opts ...broker.Option) (broker.Broker, error) {
	var b broker.Broker
	switch driverType {
	case DriverTypeV2, "":
		b = New(opts...)
	case DriverTypeV5:
		b = NewV5(opts...)
	case DriverTypeAliyun:
		b = NewAliyun(opts...)
	default:
		err := fmt.Errorf("unknown rocketmq driver type %q (want %q, %q or %q)", driverType, DriverTypeV2, DriverTypeV5, DriverTypeAliyun)
		return unavailable{err}, err
	}
	if err := b.Init(); err != nil {
		return unavailable{err}, err
	}
	return b, nil
}

// unavailable is the Broker of a driver that cannot be used; every call returns err.
type unavailable struct{ err error }

func (u unavailable) Name() string                { return "unavailable" }
func (u unavailable) Options() broker.Options     { return broker.Options{} }
func (u unavailable) Address() string             { return "" }
func (u unavailable) Init(...broker.Option) error { return u.err }
func (u unavailable) Connect() error              { return u.err }
func (u unavailable) Disconnect() error           { return nil }
func (u unavailable) Drain(context.Context) error { return nil }
func (u unavailable) Publish(context.Context, string, broker.Any, ...broker.PublishOption) error {
	return u.err
}
func (u unavailable) Subscribe(string, broker.Handler, broker.Binder, ...broker.SubscribeOption) (broker.Subscriber, error) {
	return nil, u.err
}
func (u unavailable) Request(context.Context, string, broker.Any, ...broker.RequestOption) (broker.Any, error) {
	return nil, u.err
}

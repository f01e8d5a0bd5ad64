package broker

import (
	"crypto/tls"
	"fmt"

	"github.com/go-kratos/kratos/v2/encoding"
	// Register the codecs WithCodec names.
	_ "github.com/go-kratos/kratos/v2/encoding/json"
	_ "github.com/go-kratos/kratos/v2/encoding/proto"
	"github.com/go-kratos/kratos/v2/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// DefaultCodecName is the codec a broker uses unless WithCodec says otherwise.
const DefaultCodecName = "json"

// Options configure a Broker. Drivers keep their own settings in Driver.
type Options struct {
	// Addrs are the addresses to dial (RocketMQ: name servers).
	Addrs []string
	// Codec encodes published values and decodes delivered bodies; nil sends only
	// []byte and string bodies. Set with WithCodec.
	Codec encoding.Codec
	// CodecName is the name given to WithCodec.
	CodecName string

	// Secure asks for TLS; TLSConfig is the configuration to use.
	Secure    bool
	TLSConfig *tls.Config

	// Logger receives the broker's (and the client library's) logs; nil: Kratos' global.
	Logger log.Logger
	// ClientLogLevel is the lowest level of the client library's own logs passed on.
	ClientLogLevel log.Level

	// TracerProvider, when set (or GlobalTracerProvider), turns tracing on.
	TracerProvider       trace.TracerProvider
	TracerName           string
	GlobalTracerProvider bool
	// Propagator carries trace context in message headers (default: W3C trace context
	// and baggage); GlobalPropagator uses otel's global one.
	Propagator       propagation.TextMapPropagator
	GlobalPropagator bool
	// MeterProvider, when set (or GlobalMeterProvider), turns metrics on.
	MeterProvider       metric.MeterProvider
	GlobalMeterProvider bool

	// Driver holds driver-specific typed settings; only the driver's options touch it.
	Driver any
}

// Option changes Options.
type Option func(*Options)

// Apply runs opts on o in order.
func (o *Options) Apply(opts ...Option) {
	for _, opt := range opts {
		opt(o)
	}
}

// Validate reports a configuration no driver can use, such as an unknown codec name.
func (o *Options) Validate() error {
	if o.CodecName != "" && o.Codec == nil {
		return fmt.Errorf("broker: unknown codec %q (registered with Kratos encoding: json, proto, ...)", o.CodecName)
	}
	return nil
}

// NewOptions returns the defaults (json codec, client logs from warn up) with opts applied.
func NewOptions(opts ...Option) Options {
	o := Options{
		Codec:          encoding.GetCodec(DefaultCodecName),
		CodecName:      DefaultCodecName,
		ClientLogLevel: log.LevelWarn,
	}
	o.Apply(opts...)
	return o
}

// WithAddress sets the addresses to dial.
func WithAddress(addrs ...string) Option {
	return func(o *Options) { o.Addrs = addrs }
}

// WithCodec selects a Kratos encoding codec by name ("json", "proto", ...); an unknown
// name makes Init fail with an error that names it. "" sends raw bodies only.
func WithCodec(name string) Option {
	return func(o *Options) {
		o.CodecName = name
		if name == "" {
			o.Codec = nil
			return
		}
		o.Codec = encoding.GetCodec(name)
	}
}

// WithEnableSecure asks for TLS.
func WithEnableSecure(enable bool) Option {
	return func(o *Options) { o.Secure = enable }
}

// WithTLSConfig sets the TLS configuration (non-nil also turns Secure on).
func WithTLSConfig(c *tls.Config) Option {
	return func(o *Options) {
		o.TLSConfig = c
		if c != nil {
			o.Secure = true
		}
	}
}

// WithLogger sets the logger for the broker and the client library.
func WithLogger(l log.Logger) Option {
	return func(o *Options) { o.Logger = l }
}

// WithClientLogLevel sets the lowest level of client-library logs to pass on (default warn).
func WithClientLogLevel(l log.Level) Option {
	return func(o *Options) { o.ClientLogLevel = l }
}

// WithTracerProvider turns tracing on with provider; tracerName names the tracer
// ("" means the module path of this package).
func WithTracerProvider(provider trace.TracerProvider, tracerName string) Option {
	return func(o *Options) {
		o.TracerProvider = provider
		o.TracerName = tracerName
	}
}

// WithGlobalTracerProvider turns tracing on with otel's global tracer provider, read at Init.
func WithGlobalTracerProvider() Option {
	return func(o *Options) { o.GlobalTracerProvider = true }
}

// WithPropagator sets how trace context travels in message headers.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(o *Options) { o.Propagator = p }
}

// WithGlobalPropagator uses otel's global propagator, read at Init.
func WithGlobalPropagator() Option {
	return func(o *Options) { o.GlobalPropagator = true }
}

// WithMeterProvider turns metrics on with provider.
func WithMeterProvider(provider metric.MeterProvider) Option {
	return func(o *Options) { o.MeterProvider = provider }
}

// WithGlobalMeterProvider turns metrics on with otel's global meter provider, read at Init.
func WithGlobalMeterProvider() Option {
	return func(o *Options) { o.GlobalMeterProvider = true }
}

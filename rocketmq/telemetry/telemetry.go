// Package telemetry gives a Kratos service its OpenTelemetry providers: a MeterProvider
// exported in the Prometheus text format (mount Provider.Handler on GET /metrics), and a
// TracerProvider that samples every request and message (so log lines carry
// trace.id/span.id and a consumer's span continues the producer's trace). Spans go
// nowhere unless an exporter is given (WithSpanExporter: OTLP, stdout, ...). No global is
// set: hand the providers to the transports and the publisher.
//
//	tp, cleanup, err := telemetry.NewProvider()
//	defer cleanup()
//	srv.Handle("/metrics", tp.Handler)
//	rocketmq.NewServer(rocketmq.DriverTypeV2, rocketmq.WithMeterProvider(tp), rocketmq.WithTracerProvider(tp.Tracer, ""))
package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/middleware/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Provider holds the application's meter and tracer providers and the /metrics handler.
type Provider struct {
	metric.MeterProvider
	// Tracer provides the tracers of the API middleware, the transport and the publisher.
	Tracer trace.TracerProvider
	// Handler serves the Prometheus text format (mount it on GET /metrics).
	Handler http.Handler
}

// Option configures NewProvider.
type Option func(*options)

type options struct {
	spanExporters []sdktrace.SpanExporter
}

// WithSpanExporter sends the recorded spans to exp in batches (for example an OTLP
// exporter); without one, spans only link log lines and messages.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporters = append(o.spanExporters, exp) }
}

// NewProvider returns the providers: instruments are exported to a private Prometheus
// registry (with Go runtime and process collectors); the cleanup flushes and shuts both
// down.
func NewProvider(opts ...Option) (*Provider, func(), error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample())}
	for _, exp := range o.spanExporters {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	p := &Provider{
		MeterProvider: mp,
		Tracer:        tp,
		Handler:       promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
	}
	return p, func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}, nil
}

// ServerMetrics returns Kratos' metrics middleware for an API server (HTTP, gRPC), recording
// server.requests (by kind, operation, code and reason) and server.request.duration.
func (p *Provider) ServerMetrics() (middleware.Middleware, error) {
	meter := p.Meter("github.com/kratos-rocketmq/rocketmq/telemetry")
	requests, err := meter.Int64Counter("server.requests",
		metric.WithDescription("API requests by kind, operation and code."), metric.WithUnit("{request}"))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	seconds, err := meter.Float64Histogram("server.request.duration",
		metric.WithDescription("API request latency."), metric.WithUnit("s"))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return metrics.Server(metrics.WithRequests(requests), metrics.WithSeconds(seconds)), nil
}

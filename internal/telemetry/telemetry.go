// Package telemetry gives the application its OpenTelemetry providers: a MeterProvider
// exported in the Prometheus text format on GET /metrics, and a TracerProvider that samples
// every request and message (so log lines carry trace.id/span.id and a consumer's span
// continues the producer's trace) with no exporter: add one (OTLP, ...) in NewProvider to
// ship spans. No global is set: transports and the publisher receive the providers.
package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ProviderSet is telemetry providers.
var ProviderSet = wire.NewSet(NewProvider)

// Provider holds the application's meter and tracer providers and the /metrics handler.
type Provider struct {
	metric.MeterProvider
	// Tracer provides the tracers of the API middleware, the transport and the publisher.
	Tracer trace.TracerProvider
	// Handler serves the Prometheus text format (mount it on GET /metrics).
	Handler http.Handler
}

// NewProvider returns the providers: instruments are exported to a private Prometheus
// registry (with Go runtime and process collectors); the cleanup shuts both down.
func NewProvider() (*Provider, func(), error) {
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
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
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

package telemetry_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/kratos-rocketmq/rocketmq/telemetry"
)

func TestMetricsHandlerServesInstruments(t *testing.T) {
	tp, cleanup, err := telemetry.NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	c, err := tp.Meter("test").Int64Counter("shop.orders", metric.WithUnit("{order}"))
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 3)
	rec := httptest.NewRecorder()
	tp.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"shop_orders_total", // the OpenTelemetry counter in Prometheus' naming
		" 3\n",
		"go_goroutines",    // Go runtime collector
		"process_open_fds", // process collector (Linux)
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%.2000s", want, body)
		}
	}
}

func TestSpansReachTheExporter(t *testing.T) {
	exp := &recorder{}
	tp, cleanup, err := telemetry.NewProvider(telemetry.WithSpanExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer.Tracer("test").Start(context.Background(), "publish orders")
	if !span.SpanContext().IsSampled() {
		t.Error("span not sampled: every request and message must be")
	}
	span.End()
	cleanup() // flushes the batcher
	exp.mu.Lock()
	defer exp.mu.Unlock()
	if len(exp.names) != 1 || exp.names[0] != "publish orders" {
		t.Fatalf("exported spans = %q, want the one ended", exp.names)
	}
}

// recorder is a span exporter that keeps the names of what it got, also after Shutdown
// (tracetest's in-memory exporter forgets them there).
type recorder struct {
	mu    sync.Mutex
	names []string
}

func (r *recorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range spans {
		r.names = append(r.names, s.Name())
	}
	return nil
}

func (r *recorder) Shutdown(context.Context) error { return nil }

func TestWithoutExporterSpansStillLinkLogs(t *testing.T) {
	tp, cleanup, err := telemetry.NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	_, span := tp.Tracer.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	if !span.SpanContext().HasTraceID() || !span.SpanContext().IsSampled() {
		t.Fatal("no sampled trace id without an exporter: log lines would carry none")
	}
}

func TestServerMetrics(t *testing.T) {
	tp, cleanup, err := telemetry.NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	mw, err := tp.ServerMetrics()
	if err != nil {
		t.Fatal(err)
	}
	h := mw(func(context.Context, any) (any, error) { return "ok", nil })
	for i := 0; i < 2; i++ {
		if _, err := h(context.Background(), "req"); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	tp.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"server_requests_total{", "} 2\n", "server_request_duration_seconds_count{"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%.3000s", want, body)
		}
	}
}

package rocketmq

import (
	"context"
	"crypto/tls"
	"net/url"
	"sync"
	"testing"

	"github.com/go-kratos/kratos/v2/selector"
	"github.com/go-kratos/kratos/v2/transport"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

type apiPayload struct{ N int }

// These assignments pin every exported name and signature of the reference package
// (tx7do/kratos-transport transport/rocketmq v1.2.18): changing one breaks the build.
var (
	_ transport.Server      = (*Server)(nil)
	_ transport.Endpointer  = (*Server)(nil)
	_ transport.Transporter = (*Transport)(nil)
	_ broker.Broker         = (*Server)(nil)

	_ func(DriverType, ...ServerOption) *Server = NewServer

	_ func(*Server) string                                                                                           = (*Server).Name
	_ func(*Server) (*url.URL, error)                                                                                = (*Server).Endpoint
	_ func(*Server, context.Context) error                                                                           = (*Server).Start
	_ func(*Server, context.Context) error                                                                           = (*Server).Stop
	_ func(*Server, context.Context, string, string, broker.Handler, broker.Binder, ...broker.SubscribeOption) error = (*Server).RegisterSubscriber

	_ func(*Server, context.Context, string, string, func(context.Context, string, broker.Headers, *apiPayload) error, ...broker.SubscribeOption) error = RegisterSubscriber[apiPayload]

	_ func(...broker.Option) ServerOption              = WithBrokerOptions
	_ func(string) ServerOption                        = WithCodec
	_ func(string, string, string) ServerOption        = WithCredentials
	_ func(bool) ServerOption                          = WithEnableKeepAlive
	_ func() ServerOption                              = WithEnableTrace
	_ func() ServerOption                              = WithGlobalPropagator
	_ func() ServerOption                              = WithGlobalTracerProvider
	_ func(string) ServerOption                        = WithGroupName
	_ func(string) ServerOption                        = WithInstanceName
	_ func([]string) ServerOption                      = WithNameServer
	_ func(string) ServerOption                        = WithNameServerDomain
	_ func(string) ServerOption                        = WithNamespace
	_ func(propagation.TextMapPropagator) ServerOption = WithPropagator
	_ func(int) ServerOption                           = WithRetryCount
	_ func(*tls.Config) ServerOption                   = WithTLSConfig
	_ func(trace.TracerProvider, string) ServerOption  = WithTracerProvider

	_ func(...any)         = LogDebug
	_ func(string, ...any) = LogDebugf
	_ func(...any)         = LogInfo
	_ func(string, ...any) = LogInfof
	_ func(...any)         = LogWarn
	_ func(string, ...any) = LogWarnf
	_ func(...any)         = LogError
	_ func(string, ...any) = LogErrorf
	_ func(...any)         = LogFatal
	_ func(string, ...any) = LogFatalf

	_ func(*Transport) transport.Kind        = (*Transport).Kind
	_ func(*Transport) string                = (*Transport).Endpoint
	_ func(*Transport) string                = (*Transport).Operation
	_ func(*Transport) transport.Header      = (*Transport).RequestHeader
	_ func(*Transport) transport.Header      = (*Transport).ReplyHeader
	_ func(*Transport) []selector.NodeFilter = (*Transport).NodeFilters

	_ DriverType = DriverTypeV2
	_ DriverType = DriverTypeV5
	_ DriverType = DriverTypeAliyun
)

func TestAPIShape(t *testing.T) {
	if KindRocketMQ != transport.Kind("rocketmq") {
		t.Errorf("KindRocketMQ = %q", KindRocketMQ)
	}
	var s Server
	var _ broker.Broker = s.Broker // embedded field, as in the reference
	var _ *sync.RWMutex = &s.RWMutex
	srv := NewServer(DriverTypeV2, WithEnableKeepAlive(false), WithNameServer([]string{"127.0.0.1:1"}))
	if srv.Name() != "rocketmq" {
		t.Errorf("Name = %q", srv.Name())
	}
	for i, f := range []func(){
		func() { LogDebug("a", 1) }, func() { LogDebugf("%d", 1) }, func() { LogInfo("a") }, func() { LogInfof("%s", "a") },
		func() { LogWarn("a") }, func() { LogWarnf("%s", "a") }, func() { LogError("a") }, func() { LogErrorf("%s", "a") },
		func() { LogFatal("a") }, func() { LogFatalf("%s", "a") },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("log function %d panicked: %v", i, r)
				}
			}()
			f()
		}()
	}
}

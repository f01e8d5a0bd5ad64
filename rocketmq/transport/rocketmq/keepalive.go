package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
)

// keepAliveServer is the HTTP health endpoint: GET /healthz answers 200 while the
// server runs and 503 while it stops. It listens on the first endpoint() call so the
// URL is known before Start (registries ask early).
type keepAliveServer struct {
	addr    string
	lis     net.Listener
	url     *url.URL
	srv     *http.Server
	serving atomic.Bool
	done    chan struct{}
}

func newKeepAliveServer(addr string) *keepAliveServer {
	return &keepAliveServer{addr: addr}
}

func (k *keepAliveServer) endpoint() (*url.URL, error) {
	if k.url != nil {
		return k.url, nil
	}
	lis, err := net.Listen("tcp", k.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", k.addr, err)
	}
	host, port, err := net.SplitHostPort(lis.Addr().String())
	if err != nil {
		_ = lis.Close()
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = advertisedIP()
	}
	k.lis = lis
	k.url = &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	return k.url, nil
}

func (k *keepAliveServer) start() error {
	if _, err := k.endpoint(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !k.serving.Load() {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	k.srv = &http.Server{Handler: mux}
	k.done = make(chan struct{})
	k.serving.Store(true)
	go func() {
		defer close(k.done)
		if err := k.srv.Serve(k.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			LogErrorf("keep-alive endpoint stopped: %v", err)
		}
	}()
	return nil
}

func (k *keepAliveServer) stop(ctx context.Context) error {
	k.serving.Store(false)
	if k.srv == nil {
		if k.lis != nil {
			return k.lis.Close()
		}
		return nil
	}
	err := k.srv.Shutdown(ctx)
	if err != nil {
		_ = k.srv.Close()
	}
	<-k.done
	return err
}

// advertisedIP is the first non-loopback IPv4 address, or 127.0.0.1.
func advertisedIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

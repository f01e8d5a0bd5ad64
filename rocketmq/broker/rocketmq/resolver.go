package rocketmq

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// lookupTimeout bounds the resolution of one name server host name.
const lookupTimeout = 5 * time.Second

// hostResolver hands the client IP addresses for the name servers its inner resolver
// lists by host name ("namesrv:9876", a Kubernetes service name): rocketmq-client-go/v2
// refuses anything but IP addresses ("IP addr error"). The client asks again now and
// then, so a name that moves to another address is followed; when a lookup fails the
// last addresses found are kept.
type hostResolver struct {
	inner primitive.NsResolver

	mu   sync.Mutex
	last map[string][]string // host:port → the ip:port it resolved to last
}

func newHostResolver(inner primitive.NsResolver) *hostResolver {
	return &hostResolver{inner: inner, last: map[string][]string{}}
}

// Resolve returns the inner resolver's addresses with host names replaced by their IP
// addresses.
func (r *hostResolver) Resolve() []string {
	var out []string
	for _, a := range r.inner.Resolve() {
		ips, err := resolveHost(a)
		r.mu.Lock()
		if err == nil {
			r.last[a] = ips
		} else if prev, ok := r.last[a]; ok {
			ips = prev
		} else {
			ips = []string{a} // the client reports it
		}
		r.mu.Unlock()
		out = append(out, ips...)
	}
	return out
}

// Description describes the inner resolver.
func (r *hostResolver) Description() string { return r.inner.Description() + " (host names resolved)" }

// resolveHost returns addr when its host is an IP address (or it is no host:port),
// else one ip:port per address of the host.
func resolveHost(addr string) ([]string, error) {
	addr = strings.TrimSpace(addr)
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) != nil {
		return []string{addr}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve name server %s: %w", addr, err)
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, port)
	}
	return out, nil
}

// checkHosts resolves the host names among addrs once, so that Connect fails with the
// lookup error rather than the client's "IP addr error".
func checkHosts(addrs []string) error {
	for _, a := range addrs {
		if _, err := resolveHost(a); err != nil {
			return fmt.Errorf("rocketmq: %w", err)
		}
	}
	return nil
}

package nacos

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/encoding"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

var _ config.Source = (*source)(nil)

// ErrNotFound is the cause Load reports when the configuration does not exist in Nacos
// (the client reads a missing configuration as empty content).
var ErrNotFound = errors.New("configuration not found")

type source struct {
	client config_client.IConfigClient
	opts   options
	// reading holds a token while a GetConfig call runs: reads never overlap, so a read
	// abandoned after a timeout is not joined by more, and the next read happens after it
	// (nacos-sdk-go's client is not safe for concurrent use while it connects).
	reading chan struct{}

	mu     sync.Mutex
	loaded string // content of the last successful Load, the watcher's starting point
}

// NewConfigSource returns a config.Source for the configuration named by the options
// (WithDataID is required) read through client. Nothing is read before Load.
func NewConfigSource(client config_client.IConfigClient, opts ...Option) config.Source {
	o := options{group: DefaultGroup, timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.format == "" {
		o.format = formatOf(o.dataID)
	}
	return &source{client: client, opts: o, reading: make(chan struct{}, 1)}
}

// formatOf maps a data ID's extension to a Kratos codec name.
func formatOf(dataID string) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(dataID), "."))
	if ext == "yml" {
		return "yaml"
	}
	return ext
}

// Load reads the configuration; see the package documentation for what fails.
func (s *source) Load() ([]*config.KeyValue, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	content, err := s.read(context.Background())
	if err != nil {
		return nil, s.errorf("load", err)
	}
	if content == "" {
		return nil, s.errorf("load", ErrNotFound)
	}
	kv := s.keyValue(content)
	if err := s.decodes(kv); err != nil {
		return nil, s.errorf("load", err)
	}
	s.mu.Lock()
	s.loaded = content
	s.mu.Unlock()
	return []*config.KeyValue{kv}, nil
}

// Watch registers a listener with the client and returns the watcher it feeds.
func (s *source) Watch() (config.Watcher, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	last := s.loaded
	s.mu.Unlock()
	w := newWatcher(s, last)
	err := s.client.ListenConfig(vo.ConfigParam{DataId: s.opts.dataID, Group: s.opts.group, OnChange: w.onChange})
	if err != nil {
		w.cancel()
		return nil, s.errorf("watch", err)
	}
	return w, nil
}

func (s *source) validate() error {
	if s.opts.dataID == "" {
		return errors.New("nacos: no data ID configured (WithDataID)")
	}
	if s.opts.format == "" {
		return fmt.Errorf("nacos: data ID %q has no extension to take the format from (WithFormat)", s.opts.dataID)
	}
	if encoding.GetCodec(s.opts.format) == nil {
		return fmt.Errorf("nacos: data ID %q: no Kratos codec for format %q (register one with encoding.RegisterCodec, or use WithFormat)",
			s.opts.dataID, s.opts.format)
	}
	if s.opts.timeout <= 0 {
		return fmt.Errorf("nacos: data ID %q: timeout must be positive, got %s", s.opts.dataID, s.opts.timeout)
	}
	return nil
}

// read fetches the current content, giving up after the timeout or when ctx ends. The
// client call cannot be cancelled: after a timeout it finishes on its own goroutine, within
// the client's own (longer) limits, and the next read waits for it first.
func (s *source) read(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.opts.timeout,
		fmt.Errorf("no answer within %s: %w", s.opts.timeout, context.DeadlineExceeded))
	defer cancel()
	select {
	case s.reading <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("an earlier read is still waiting for the client: %w", context.Cause(ctx))
	}
	type result struct {
		content string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-s.reading }()
		content, err := s.client.GetConfig(vo.ConfigParam{DataId: s.opts.dataID, Group: s.opts.group})
		done <- result{content, err}
	}()
	select {
	case r := <-done:
		return r.content, r.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

func (s *source) keyValue(content string) *config.KeyValue {
	return &config.KeyValue{Key: s.opts.dataID, Value: []byte(content), Format: s.opts.format}
}

// decodes reports whether Kratos will be able to decode kv.
func (s *source) decodes(kv *config.KeyValue) error {
	var probe map[string]any
	if err := encoding.GetCodec(kv.Format).Unmarshal(kv.Value, &probe); err != nil {
		return fmt.Errorf("decode as %s: %w", kv.Format, err)
	}
	return nil
}

// errorf wraps err with what was being done and which configuration on which server.
func (s *source) errorf(op string, err error) error {
	return fmt.Errorf("nacos: %s %s: %w", op, s.describe(), err)
}

// describe names the configuration: data ID, group, namespace and servers. The last two
// come from the client when it exposes its settings (nacos-sdk-go's client does).
func (s *source) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data ID %q group %q", s.opts.dataID, s.opts.group)
	settings, ok := s.client.(interface {
		GetClientConfig() (constant.ClientConfig, error)
		GetServerConfig() ([]constant.ServerConfig, error)
	})
	if !ok {
		return b.String()
	}
	if cc, err := settings.GetClientConfig(); err == nil && cc.NamespaceId != "" {
		fmt.Fprintf(&b, " namespace %q", cc.NamespaceId)
	}
	if scs, err := settings.GetServerConfig(); err == nil && len(scs) > 0 {
		addrs := make([]string, len(scs))
		for i, sc := range scs {
			addrs[i] = sc.IpAddr + ":" + strconv.FormatUint(sc.Port, 10)
			if sc.GrpcPort != 0 && sc.GrpcPort != sc.Port+constant.RpcPortOffset {
				addrs[i] += " (gRPC " + strconv.FormatUint(sc.GrpcPort, 10) + ")"
			}
		}
		fmt.Fprintf(&b, " on %s", strings.Join(addrs, ", "))
	}
	return b.String()
}

// logger returns the helper the source logs with: WithLogger's logger, else Kratos'
// global logger as it is now (main sets it once the configuration is loaded), with the
// configuration's name attached.
func (s *source) logger() *log.Helper {
	l := s.opts.logger
	if l == nil {
		l = log.GetLogger()
	}
	return log.NewHelper(log.With(l, "source", "nacos", "dataId", s.opts.dataID, "group", s.opts.group))
}

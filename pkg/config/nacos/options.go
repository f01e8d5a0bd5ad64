package nacos

import (
	"time"

	"github.com/go-kratos/kratos/v2/log"
)

// Option configures a source.
type Option func(*options)

type options struct {
	dataID  string
	group   string
	format  string
	timeout time.Duration
	logger  log.Logger
}

// DefaultGroup is the Nacos group used when WithGroup is not given.
const DefaultGroup = "DEFAULT_GROUP"

// DefaultTimeout bounds one read of the configuration when WithTimeout is not given.
const DefaultTimeout = 10 * time.Second

// WithDataID sets the data ID of the configuration (required), e.g. "app.yaml".
func WithDataID(dataID string) Option { return func(o *options) { o.dataID = dataID } }

// WithGroup sets the group of the configuration; default DefaultGroup.
func WithGroup(group string) Option { return func(o *options) { o.group = group } }

// WithFormat sets the Kratos codec name the configuration is decoded with ("yaml",
// "json", ...), overriding the data ID's extension.
func WithFormat(format string) Option { return func(o *options) { o.format = format } }

// WithTimeout bounds each read of the configuration (Load, and the re-read after a
// change); default DefaultTimeout. The client has timeouts of its own (ClientConfig.TimeoutMs
// per request), but it retries connecting and can wait for a server that is starting up.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogger sets where the watcher reports skipped versions and failed re-reads; default
// the Kratos global logger.
func WithLogger(l log.Logger) Option { return func(o *options) { o.logger = l } }

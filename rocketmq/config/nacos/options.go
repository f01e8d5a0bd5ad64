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
	resync  time.Duration
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

// WithResync makes the watcher also re-read the configuration every d and report it when
// it differs from the version in force, so that a change whose notification the client
// lost still applies within d (nacos-sdk-go v2.3.2 drops one published while it is busy
// registering its listener, until its own full resync five minutes later). 0, the
// default, relies on notifications alone.
func WithResync(d time.Duration) Option { return func(o *options) { o.resync = d } }

// WithLogger sets where the watcher reports skipped versions and failed re-reads; default
// Kratos' global logger, whichever is set when a line is logged.
func WithLogger(l log.Logger) Option { return func(o *options) { o.logger = l } }

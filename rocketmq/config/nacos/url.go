package nacos

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// URL names a configuration in Nacos and how to reach it, in one string a -conf flag can
// take:
//
//	nacos://[user:password@]host[:port][,host[:port]...]?dataId=app.yaml[&group=G][&namespace=N]
//	        [&grpcPort=9848][&timeout=10s][&resync=1m][&cacheDir=DIR][&logDir=DIR][&logLevel=warn]
//
// The port defaults to 8848 and the gRPC port to the port + 1000 (set grpcPort when a
// proxy or container maps it elsewhere). namespace is the namespace ID ("" or "public" is
// the public one). timeout bounds each read (DefaultTimeout) and each client request.
// resync is WithResync's period, default DefaultURLResync; 0 turns it off.
// cacheDir and logDir are where the client keeps its snapshots and its log file (default
// nacos/cache and nacos/log under the system temporary directory); logLevel is the client
// log's level (default warn).
type URL struct {
	Servers   []constant.ServerConfig
	Namespace string
	Username  string
	Password  string
	DataID    string
	Group     string
	Timeout   time.Duration
	Resync    time.Duration
	CacheDir  string
	LogDir    string
	LogLevel  string
}

// DefaultURLResync is the resync period of a source made from a URL without a resync
// parameter: a missed notification costs at most this long.
const DefaultURLResync = time.Minute

// IsURL reports whether s is meant as a nacos:// URL.
func IsURL(s string) bool { return strings.HasPrefix(s, "nacos://") }

// ParseURL parses a nacos:// URL; its errors name the offending part.
func ParseURL(raw string) (*URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL would repeat the password
		}
		return nil, fmt.Errorf("nacos URL %s: %w", maskUserinfo(raw), err)
	}
	if u.Scheme != "nacos" {
		return nil, fmt.Errorf("nacos URL %s: scheme must be nacos://", redact(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("nacos URL %s: no server address", redact(u))
	}
	q := u.Query()
	n := &URL{
		Namespace: q.Get("namespace"),
		DataID:    q.Get("dataId"),
		Group:     q.Get("group"),
		Timeout:   DefaultTimeout,
		Resync:    DefaultURLResync,
		CacheDir:  q.Get("cacheDir"),
		LogDir:    q.Get("logDir"),
		LogLevel:  q.Get("logLevel"),
	}
	if n.DataID == "" {
		return nil, fmt.Errorf("nacos URL %s: no dataId parameter", redact(u))
	}
	if n.Group == "" {
		n.Group = DefaultGroup
	}
	if u.User != nil {
		n.Username = u.User.Username()
		n.Password, _ = u.User.Password()
	}
	if s := q.Get("timeout"); s != "" {
		if n.Timeout, err = time.ParseDuration(s); err != nil || n.Timeout <= 0 {
			return nil, fmt.Errorf("nacos URL %s: timeout %q is not a positive duration like 5s", redact(u), s)
		}
	}
	if s := q.Get("resync"); s != "" {
		if n.Resync, err = time.ParseDuration(s); err != nil || n.Resync < 0 {
			return nil, fmt.Errorf("nacos URL %s: resync %q is not a duration like 1m (0 turns it off)", redact(u), s)
		}
	}
	var grpcPort uint64
	if s := q.Get("grpcPort"); s != "" {
		if grpcPort, err = parsePort(s); err != nil {
			return nil, fmt.Errorf("nacos URL %s: grpcPort: %w", redact(u), err)
		}
	}
	for _, hp := range strings.Split(u.Host, ",") {
		host, port := hp, uint64(8848)
		if h, p, err := net.SplitHostPort(hp); err == nil {
			host = h
			if port, err = parsePort(p); err != nil {
				return nil, fmt.Errorf("nacos URL %s: server %q: %w", redact(u), hp, err)
			}
		}
		if host == "" {
			return nil, fmt.Errorf("nacos URL %s: server %q has no host", redact(u), hp)
		}
		sc := constant.ServerConfig{IpAddr: host, Port: port, GrpcPort: grpcPort}
		if sc.GrpcPort == 0 {
			sc.GrpcPort = port + constant.RpcPortOffset
		}
		n.Servers = append(n.Servers, sc)
	}
	switch n.LogLevel {
	case "":
		n.LogLevel = "warn"
	case "debug", "info", "warn", "error":
	default:
		return nil, fmt.Errorf("nacos URL %s: logLevel %q is not debug, info, warn or error", redact(u), n.LogLevel)
	}
	tmp := filepath.Join(os.TempDir(), "nacos")
	if n.CacheDir == "" {
		n.CacheDir = filepath.Join(tmp, "cache")
	}
	if n.LogDir == "" {
		n.LogDir = filepath.Join(tmp, "log")
	}
	return n, nil
}

func parsePort(s string) (uint64, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("%q is not a port", s)
	}
	return p, nil
}

// ClientParam is the nacos-sdk-go client configuration the URL describes. Snapshots are
// off: a client that cannot reach the server fails rather than serving an old copy.
func (n *URL) ClientParam() vo.NacosClientParam {
	servers := make([]constant.ServerConfig, len(n.Servers))
	copy(servers, n.Servers)
	return vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			NamespaceId:         n.Namespace,
			Username:            n.Username,
			Password:            n.Password,
			TimeoutMs:           uint64(n.Timeout / time.Millisecond),
			NotLoadCacheAtStart: true,
			DisableUseSnapShot:  true,
			CacheDir:            n.CacheDir,
			LogDir:              n.LogDir,
			LogLevel:            n.LogLevel,
		},
		ServerConfigs: servers,
	}
}

// NewClient creates the config client; it connects on first use.
func (n *URL) NewClient() (config_client.IConfigClient, error) {
	c, err := clients.NewConfigClient(n.ClientParam())
	if err != nil {
		return nil, fmt.Errorf("nacos client for %s: %w", n, err)
	}
	return c, nil
}

// Options are the source options the URL sets: data ID, group, timeout and resync.
func (n *URL) Options() []Option {
	return []Option{WithDataID(n.DataID), WithGroup(n.Group), WithTimeout(n.Timeout), WithResync(n.Resync)}
}

// String returns the URL with the password masked.
func (n *URL) String() string {
	hosts := make([]string, len(n.Servers))
	for i, s := range n.Servers {
		hosts[i] = net.JoinHostPort(s.IpAddr, strconv.FormatUint(s.Port, 10))
	}
	u := url.URL{Scheme: "nacos", Host: strings.Join(hosts, ",")}
	if n.Username != "" {
		u.User = url.UserPassword(n.Username, n.Password)
	}
	q := url.Values{"dataId": {n.DataID}, "group": {n.Group}}
	if n.Namespace != "" {
		q.Set("namespace", n.Namespace)
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

func redact(u *url.URL) string { return u.Redacted() }

// maskUserinfo hides the user info of a URL that did not parse.
func maskUserinfo(raw string) string {
	rest, ok := strings.CutPrefix(raw, "nacos://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return "nacos://xxxxx" + rest[at:]
	}
	return raw
}

// SourceOf returns the configuration source a -conf flag value names: for a nacos:// URL
// the Nacos configuration it describes, on a new client that cleanup closes (after the
// config.Config is closed); for anything else orElse(value), for example a file source,
// with a cleanup that does nothing.
func SourceOf(value string, orElse func(value string) config.Source) (src config.Source, cleanup func(), err error) {
	if !IsURL(value) {
		return orElse(value), func() {}, nil
	}
	u, err := ParseURL(value)
	if err != nil {
		return nil, nil, err
	}
	client, err := u.NewClient()
	if err != nil {
		return nil, nil, err
	}
	return NewConfigSource(client, u.Options()...), client.CloseClient, nil
}

package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/admin"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// domainTimeout bounds one request to a name server domain when the caller's context
// has no earlier deadline.
const domainTimeout = 10 * time.Second

// maxDomainBody bounds what a name server domain may answer.
const maxDomainBody = 64 << 10

// ResolveNameServers returns the name servers the client dials: Settings.NameServers,
// or, with a name server domain, the list its URL serves now (fetched as the client
// does: an HTTP GET whose body is "host:port;host:port").
func (c *Client) ResolveNameServers(ctx context.Context) ([]string, error) {
	if c.Settings.NameServerDomain == "" {
		return c.Settings.NameServers, nil
	}
	return fetchNameServers(ctx, c.Settings.NameServerDomain)
}

func fetchNameServers(ctx context.Context, url string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, domainTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("name server domain %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("name server domain: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDomainBody))
	if err != nil {
		return nil, fmt.Errorf("name server domain %s: read the list: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("name server domain %s: HTTP %s", url, resp.Status)
	}
	var addrs []string
	for _, a := range strings.Split(string(body), ";") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("name server domain %s: the answer lists no name server", url)
	}
	return addrs, nil
}

// adminOptions are the admin calls' TLS and credentials: the client's (driver
// "aliyun"'s TLS is its HTTP endpoint's, not the name servers').
func (c *Client) adminOptions() ([]admin.Option, error) {
	var opts []admin.Option
	if c.Settings.DriverType() == rmq.DriverTypeV2 {
		cfg, err := c.Settings.TLS.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, admin.WithTLS(cfg))
	}
	if cr := c.Settings.Credentials; cr != nil {
		opts = append(opts, admin.WithCredentials(cr.AccessKey, cr.SecretKey, cr.SecurityToken))
	}
	return opts, nil
}

// adminTarget returns what every admin call needs: the name servers and the options.
func (c *Client) adminTarget(ctx context.Context) ([]string, []admin.Option, error) {
	opts, err := c.adminOptions()
	if err != nil {
		return nil, nil, err
	}
	ns, err := c.ResolveNameServers(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ns, opts, nil
}

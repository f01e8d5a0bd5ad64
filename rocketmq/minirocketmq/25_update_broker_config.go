package minirocketmq

import (
	"sort"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// UPDATE_BROKER_CONFIG (25): an admin tool changes the broker's
// configuration at run time (mqadmin updateBrokerConfig, the dashboard).
// With WithACL it needs an admin account.
//
// Honoured: body key=value lines. This broker's configuration is fixed when
// it starts, so a key whose value differs from the current one (see
// GET_BROKER_CONFIG), or that it does not know, is refused with
// SYSTEM_ERROR naming the keys, and nothing changes; keys sent with their
// current values are accepted (tools that send the whole configuration
// back). The real broker applies what it knows and ignores the rest.

// handleUpdateBrokerConfig serves code 25.
func (b *Broker) handleUpdateBrokerConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	current := b.brokerConfigProperties()
	var refused []string
	for k, v := range parseProperties(string(req.Body)) {
		if cur, ok := current[k]; !ok || cur != v {
			refused = append(refused, k+"="+v)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		b.log.Logf(LogLevelWarn, "UPDATE_BROKER_CONFIG from %s refused: %s", c.RemoteAddr(), strings.Join(refused, ", "))
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgBrokerConfigReadOnly, strings.Join(refused, ", "))), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}

package minirocketmq

import (
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_NAMESRV_CONFIG (319), name server: its configuration (mqadmin
// getNamesrvConfig). Body key=value lines, sorted, with the real name
// server's names for what applies here: listenPort,
// serverChannelMaxIdleTimeSeconds (WithIdleTimeout), orderMessageEnable
// (false: no KV config), clusterTest, productEnvName; plus
// brokerListenAddr, the broker listener of the same process. The
// configuration cannot be changed (UPDATE_NAMESRV_CONFIG, 318, is not
// served).

// handleGetNamesrvConfig serves code 319.
func (b *Broker) handleGetNamesrvConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	_, port := splitPort(b.nsAddr)
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = propertiesText(map[string]string{
		"listenPort":                      port,
		"serverChannelMaxIdleTimeSeconds": strconv.Itoa(int(b.cfg.limits.idleTimeout.Seconds())),
		"orderMessageEnable":              "false",
		"clusterTest":                     "false",
		"productEnvName":                  "center",
		"rocketmqHome":                    "",
		"kvConfigPath":                    "",
		"configStorePath":                 "",
		"brokerListenAddr":                b.brokerAddr,
	})
	return resp, nil
}

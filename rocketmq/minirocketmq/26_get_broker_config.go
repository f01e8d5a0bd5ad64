package minirocketmq

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_BROKER_CONFIG (26): the broker's configuration (mqadmin
// getBrokerConfig, the dashboard). Body key=value lines, sorted, under the
// real broker.conf names of what applies to this broker (the ones
// cmd/minirocketmq -config reads, plus brokerIP1, namesrvAddr,
// serverChannelMaxIdleTimeSeconds, aclEnable); ext version = the
// configuration's data version JSON, as the real broker sends it.

// brokerConfigProperties returns the configuration under broker.conf
// names.
func (b *Broker) brokerConfigProperties() map[string]string {
	host, port := splitPort(b.advertised)
	age, bytes := b.cfg.dur.retentionPolicy()
	flush := strconv.FormatInt(b.cfg.dur.flushInterval.Milliseconds(), 10)
	props := map[string]string{
		"brokerClusterName":               b.cfg.clusterName,
		"brokerName":                      b.cfg.brokerName,
		"brokerId":                        "0",
		"brokerIP1":                       host,
		"listenPort":                      port,
		"namesrvAddr":                     b.nsAddr,
		"brokerPermission":                "6",
		"autoCreateTopicEnable":           strconv.FormatBool(b.cfg.autoCreateTopic),
		"autoCreateSubscriptionGroup":     "true",
		"defaultTopicQueueNums":           strconv.Itoa(b.cfg.defaultQueues),
		"maxMessageSize":                  strconv.Itoa(b.cfg.maxMessageSize),
		"enablePropertyFilter":            strconv.FormatBool(b.cfg.propertyFilter),
		"aclEnable":                       strconv.FormatBool(b.cfg.security.acl != nil),
		"longPollingEnable":               "true",
		"flushDiskType":                   b.cfg.dur.flushDiskType.String(),
		"flushIntervalCommitLog":          flush,
		"flushConsumerOffsetInterval":     strconv.FormatInt(b.cfg.dur.persistInterval.Milliseconds(), 10),
		"fileReservedTime":                strconv.FormatFloat(age.Hours(), 'f', -1, 64),
		"storePathRootDir":                b.cfg.dur.dataDir,
		"messageDelayLevel":               formatDelayLevels(b.cfg.sem.delayLevels),
		"transactionCheckInterval":        strconv.FormatInt(b.cfg.sem.txCheckInterval.Milliseconds(), 10),
		"transactionTimeOut":              strconv.FormatInt(b.cfg.sem.transactionTimeout().Milliseconds(), 10),
		"transactionCheckMax":             strconv.Itoa(b.cfg.sem.txCheckMax),
		"serverChannelMaxIdleTimeSeconds": strconv.Itoa(int(b.cfg.limits.idleTimeout.Seconds())),
		"syncFlushTimeout":                strconv.FormatInt(b.cfg.dur.syncFlushTimeoutOrDefault().Milliseconds(), 10),
	}
	if bytes > 0 {
		props["retentionBytes"] = strconv.FormatInt(bytes, 10) // no broker.conf name: -retention-size
	}
	if b.cfg.dur.segmentSize > 0 {
		props["mappedFileSizeCommitLog"] = strconv.FormatInt(b.cfg.dur.segmentSize, 10)
	}
	return props
}

// formatDelayLevels writes levels in messageDelayLevel's syntax.
func formatDelayLevels(levels []time.Duration) string {
	parts := make([]string, len(levels))
	for i, d := range levels {
		switch {
		case d%(24*time.Hour) == 0:
			parts[i] = fmt.Sprintf("%dd", d/(24*time.Hour))
		case d%time.Hour == 0:
			parts[i] = fmt.Sprintf("%dh", d/time.Hour)
		case d%time.Minute == 0:
			parts[i] = fmt.Sprintf("%dm", d/time.Minute)
		case d%time.Second == 0:
			parts[i] = fmt.Sprintf("%ds", d/time.Second)
		default:
			parts[i] = d.String()
		}
	}
	return strings.Join(parts, " ")
}

// handleGetBrokerConfig serves code 26.
func (b *Broker) handleGetBrokerConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = propertiesText(b.brokerConfigProperties())
	b.mu.Lock()
	booted := b.booted
	b.mu.Unlock()
	resp.Set("version", fmt.Sprintf(`{"counter":0,"timestamp":%d}`, booted.UnixMilli()))
	return resp, nil
}

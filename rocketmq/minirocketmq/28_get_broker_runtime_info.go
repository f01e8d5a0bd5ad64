package minirocketmq

import (
	"fmt"
	"strconv"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_BROKER_RUNTIME_INFO (28): the broker's vital signs (mqadmin
// brokerStatus, the dashboard's cluster page).
//
// Body KVTable {"table":{name:value}} with the real broker's names for
// what this broker knows: brokerVersionDesc/brokerVersion (V4_9_4 / 401,
// the version it speaks), bootTimestamp, runtime, msgPutTotal* and
// msgGetTotal* (messages stored and pulled: now, this morning, yesterday
// morning, local time), putTps and getFoundTps/getTransferedTps (per
// second over 10 s, 1 min and 10 min), earliestMessageTimeStamp; and the
// store's size under storeBytes/storeRetention*. Not reported: the
// thread-pool, page-cache and commit-log entries of the Java broker.

// Version of the protocol spoken, as the Java broker reports its own.
const (
	brokerVersionDesc = "V4_9_4"
	brokerVersion     = 401
)

// handleGetBrokerRuntimeInfo serves code 28.
func (b *Broker) handleGetBrokerRuntimeInfo(c *conn, req *remoting.Command) (*remoting.Command, error) {
	now := time.Now()
	b.mu.Lock()
	booted := b.booted
	b.mu.Unlock()
	up := now.Sub(booted)
	day := b.stats.totals(now)
	tps := func(name string) string {
		r := b.stats.rates(name, now)
		return fmt.Sprintf("%s %s %s ", strconv.FormatFloat(r[0], 'f', -1, 64), strconv.FormatFloat(r[1], 'f', -1, 64), strconv.FormatFloat(r[2], 'f', -1, 64))
	}
	table := map[string]string{
		"brokerVersionDesc":           brokerVersionDesc,
		"brokerVersion":               strconv.Itoa(brokerVersion),
		"bootTimestamp":               itoa(booted.UnixMilli()),
		"runtime":                     fmt.Sprintf("[ %d days, %d hours, %d minutes, %d seconds ]", int(up.Hours())/24, int(up.Hours())%24, int(up.Minutes())%60, int(up.Seconds())%60),
		"msgPutTotalTodayNow":         itoa(day.putNow),
		"msgPutTotalTodayMorning":     itoa(day.putMorning),
		"msgPutTotalYesterdayMorning": itoa(day.putYesterday),
		"msgGetTotalTodayNow":         itoa(day.getNow),
		"msgGetTotalTodayMorning":     itoa(day.getMorning),
		"msgGetTotalYesterdayMorning": itoa(day.getYesterday),
		"putTps":                      tps(statsTopicPutNums),
		"getFoundTps":                 tps(statsGroupGetNums),
		"getTransferedTps":            tps(statsGroupGetNums),
		"earliestMessageTimeStamp":    "-1",
	}
	st := b.Stats().Store
	table["storeBytes"] = itoa(st.Bytes)
	table["storeRetentionRemovedMessages"] = itoa(st.RemovedMessages)
	table["storeRetentionKeptMessages"] = itoa(st.KeptMessages)
	return jsonResponse(req, struct {
		Table map[string]string `json:"table"`
	}{table}), nil
}

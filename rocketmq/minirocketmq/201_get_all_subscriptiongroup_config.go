package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201): every consumer group's settings
// (the Go admin's GetAllSubscriptionGroup). Body SubscriptionGroupWrapper
// {"subscriptionGroupTable":{group:config},"dataVersion":{...}}. Groups
// appear after their first heartbeat.

// handleGetAllSubscriptionGroupConfig serves code 201.
func (b *Broker) handleGetAllSubscriptionGroupConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	groups, version := b.groups.snapshot()
	table := make(map[string]*SubscriptionGroupConfig, len(groups))
	for _, g := range groups {
		table[g.GroupName] = g
	}
	body, err := json.Marshal(struct {
		SubscriptionGroupTable map[string]*SubscriptionGroupConfig `json:"subscriptionGroupTable"`
		DataVersion            dataVersion                         `json:"dataVersion"`
	}{table, version})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

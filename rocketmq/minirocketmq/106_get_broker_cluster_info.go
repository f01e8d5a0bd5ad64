package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// GET_BROKER_CLUSTER_INFO (106), name server: the brokers of each cluster
// (mqadmin clusterList, the console). Body ClusterInfo
// {"brokerAddrTable":{name:BrokerData},"clusterAddrTable":{cluster:[name]}}
// with this single broker.

// handleGetBrokerClusterInfo serves code 106.
func (b *Broker) handleGetBrokerClusterInfo(c *conn, req *remoting.Command) (*remoting.Command, error) {
	body, err := json.Marshal(struct {
		BrokerAddrTable  map[string]brokerData `json:"brokerAddrTable"`
		ClusterAddrTable map[string][]string   `json:"clusterAddrTable"`
	}{
		BrokerAddrTable:  map[string]brokerData{b.cfg.brokerName: b.brokerData()},
		ClusterAddrTable: map[string][]string{b.cfg.clusterName: {b.cfg.brokerName}},
	})
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = body
	return resp, nil
}

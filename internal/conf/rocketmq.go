package conf

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// Cluster maps one rocketmq section (data.rocketmq: the producer; server.rocketmq: the
// consumer) onto the library's connection settings. A section left out is the zero
// Settings (every key taken from the other side, or the embedded broker).
func (r *RocketMQ) Cluster() cluster.Settings {
	if r == nil {
		return cluster.Settings{}
	}
	s := cluster.Settings{
		Driver:           r.Driver,
		Endpoint:         r.Endpoint,
		NameServers:      r.NameServers,
		NameServerDomain: r.NameServerDomain,
		Namespace:        r.Namespace,
		InstanceName:     r.InstanceName,
		RetryCount:       int(r.RetryCount),
		SendTimeout:      r.SendTimeout.AsDuration(),
		Codec:            r.Codec,
	}
	if c := r.Credentials; c != nil {
		s.Credentials = &cluster.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey, SecurityToken: c.SecurityToken}
	}
	if t := r.Tls; t != nil {
		s.TLS = &cluster.TLS{Enabled: t.Enabled, InsecureSkipVerify: t.InsecureSkipVerify, CAFile: t.CaFile,
			CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName}
	}
	if t := r.Trace; t != nil {
		s.Trace = &cluster.Trace{Enabled: t.Enabled, MessageTrace: t.MessageTrace}
	}
	if e := r.Embedded; e != nil || r.TransactionCheckInterval != nil {
		s.Embedded = &cluster.Embedded{NameServerAddr: e.GetNameServerAddr(), BrokerAddr: e.GetBrokerAddr(),
			HTTPAddr: e.GetHttpAddr(), GRPCAddr: e.GetGrpcAddr(), DataDir: e.GetDataDir(),
			TransactionCheckInterval: r.TransactionCheckInterval.AsDuration()}
	}
	return s
}

// Subscription maps a subscription onto the library's, with its group defaulted to
// group (server.rocketmq.group). The consume timestamp was checked by Validate.
func (s *RocketMQ_Subscription) Subscription(group string) cluster.Subscription {
	if s.Group != "" {
		group = s.Group
	}
	sub := cluster.Subscription{
		Topic: s.Topic, Group: group, TagExpression: s.TagExpression, SQLExpression: s.SqlExpression,
		Broadcast: s.ConsumeMode == ConsumeMode_BROADCASTING, Orderly: s.Orderly,
		MaxReconsumeTimes: int(s.MaxReconsumeTimes), Concurrency: int(s.Concurrency),
	}
	switch s.ConsumeFrom {
	case ConsumeFrom_FIRST_OFFSET:
		sub.ConsumeFrom = broker.ConsumeFromFirst
	case ConsumeFrom_TIMESTAMP:
		sub.ConsumeFrom = broker.ConsumeFromTimestamp
		sub.ConsumeTimestamp, _ = time.Parse(time.RFC3339, s.ConsumeTimestamp)
	}
	return sub
}

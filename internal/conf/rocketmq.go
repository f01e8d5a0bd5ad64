package conf

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// Settings maps the connection (data.rocketmq) onto the library's connection settings:
// the subscriber's. ProducerSettings adds the publisher's retries and send timeout.
func (r *RocketMQ) Settings() cluster.Settings {
	s := cluster.Settings{
		Driver:           r.GetDriver(),
		Endpoint:         r.GetEndpoint(),
		NameServers:      r.GetNameServers(),
		NameServerDomain: r.GetNameServerDomain(),
		Namespace:        r.GetNamespace(),
		InstanceName:     r.GetInstanceName(),
		Codec:            r.GetCodec(),
		ClientLogLevel:   r.GetClientLogLevel(),
		Trace:            &cluster.Trace{Enabled: r.GetTrace().GetEnabled(), MessageTrace: r.GetTrace().GetMessageTrace()},
	}
	if c := r.GetCredentials(); c != nil {
		s.Credentials = &cluster.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey, SecurityToken: c.SecurityToken}
	}
	if t := r.GetTls(); t != nil {
		s.TLS = &cluster.TLS{Enabled: t.Enabled, InsecureSkipVerify: t.InsecureSkipVerify, CAFile: t.CaFile,
			CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName}
	}
	if e := r.GetEmbedded(); e != nil {
		s.Embedded = &cluster.Embedded{NameServerAddr: e.NameServerAddr, BrokerAddr: e.BrokerAddr, HTTPAddr: e.HttpAddr,
			GRPCAddr: e.GrpcAddr, DataDir: e.DataDir, TransactionCheckInterval: e.TransactionCheckInterval.AsDuration()}
	}
	return s
}

// ProducerSettings are the publisher's connection settings: Settings with
// producer.retry_count and producer.send_timeout.
func (r *RocketMQ) ProducerSettings() cluster.Settings {
	s := r.Settings()
	s.RetryCount = int(r.GetProducer().GetRetryCount())
	s.SendTimeout = r.GetProducer().GetSendTimeout().AsDuration()
	return s
}

// Cluster maps a subscription (its defaults applied) onto the library's. The consume
// timestamp was checked by Validate.
func (s *Subscription) Cluster() cluster.Subscription {
	sub := cluster.Subscription{
		Topic: s.Topic, Group: s.Group, TagExpression: s.TagExpression, SQLExpression: s.SqlExpression,
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

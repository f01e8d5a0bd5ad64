// Package cluster says how a service reaches RocketMQ, and hands each of its clients what
// it needs to get there. Settings is a plain struct of what a configuration file holds
// (name servers, namespace, credentials, TLS, trace, retries, codec, the embedded
// broker); Open resolves a producer's and a consumer's Settings and, when they name no
// cluster, starts the embedded broker (minirocketmq) in the process. Each side is then a
// Client whose methods give
//
//   - BrokerOptions: the driver's options, for a publisher (broker/rocketmq.NewBroker);
//   - ServerOptions: the transport's options, for a subscriber (transport/rocketmq.NewServer);
//   - EnsureTopics, Probe, HealthCheck, RegisterLagMetrics: the admin calls a service
//     makes around its clients (topic creation, readiness, consumer lag on /metrics),
//
// so that one mapping from configuration serves every connection:
//
//	ep, err := cluster.Open(ctx, producerSettings, consumerSettings,
//		cluster.WithLogger(logger), cluster.WithTelemetry(mp, tp))
//	defer ep.Close()
//	err = ep.Producer.EnsureTopics(ctx, "orders")
//	opts, err := ep.Producer.BrokerOptions()
//	pub, err := rmq.NewBroker(rmq.DriverTypeV2, append(opts, rmq.WithGroupName("pg"))...)
//	srvOpts, err := ep.Consumer.ServerOptions()
//	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, srvOpts...)
package cluster

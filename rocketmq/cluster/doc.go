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
//	pub, err := ep.Producer.Connect(rmq.WithGroupName("pg"))   // BrokerOptions + the driver
//	srvOpts, err := ep.Consumer.ServerOptions()
//	srv := rocketmq.NewServer(ep.Consumer.Driver(), srvOpts...)
//
// Settings.Driver picks the client library: DriverV2 (rocketmq-client-go, remoting; the
// default) or DriverV5 (RocketMQ 5's gRPC proxy API, at ProxyEndpoints). The admin calls
// use the name servers with either, as RocketMQ 5 clusters serve them there; with the
// embedded broker and DriverV5, Open also starts the broker's gRPC endpoint.
package cluster

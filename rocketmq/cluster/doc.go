// Package cluster says how a service reaches RocketMQ, and hands each of its clients what
// it needs to get there. Settings is a plain struct of what a configuration file holds
// (the driver, name servers, the endpoint of driver "v5" or "aliyun", namespace,
// credentials, TLS, trace, retries, codec, the embedded broker); Open resolves a
// producer's and a consumer's Settings and, when they name no cluster, starts the
// embedded broker (minirocketmq) in the process, with the gRPC or HTTP endpoint a "v5"
// or "aliyun" side needs. Each side is then a Client whose methods give
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
//	pub, err := rmq.NewBroker(ep.Producer.Driver(), append(opts, rmq.WithGroupName("pg"))...)
//	srvOpts, err := ep.Consumer.ServerOptions()
//	srv := rocketmq.NewServer(ep.Consumer.Driver(), srvOpts...)
//
// The admin calls speak the remoting protocol whatever the driver, as a real cluster
// offers it: with driver "v5" they go to the cluster's name servers (a 5.x cluster has
// them next to its proxies; EnsureTopics gives the topics message.type MIXED); with
// driver "aliyun" on the embedded broker they go to its name server;
// on an Aliyun instance (an Endpoint and no name servers) there is none, so topic
// creation and consumer lag are the instance console's and the health check dials the
// endpoint.
package cluster

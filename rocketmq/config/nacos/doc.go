// Package nacos is a Kratos config.Source that reads one Nacos configuration (a data ID
// in a group) through nacos-sdk-go/v2 and watches it for changes:
//
//	client, err := clients.NewConfigClient(vo.NacosClientParam{
//		ClientConfig:  &constant.ClientConfig{NamespaceId: "dev", TimeoutMs: 5000},
//		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: 8848}},
//	})
//	if err != nil { ... }
//	defer client.CloseClient() // after c.Close
//	c := config.New(config.WithSource(
//		nacos.NewConfigSource(client, nacos.WithDataID("app.yaml"), nacos.WithGroup("order")),
//	))
//	defer c.Close()
//	if err := c.Load(); err != nil { ... } // names the server, data ID, group and cause
//
// The format comes from the data ID's extension (app.yaml, app.yml, app.json, app.xml),
// or WithFormat; it must be one a Kratos codec is registered for.
//
// Load reads the configuration, waiting at most WithTimeout (10s by default) for the
// client, and fails when it is missing, empty or does not decode. The watcher returned by
// Watch blocks in Next until Nacos pushes a change, re-reads the configuration then (so
// it always hands over the newest version, whatever order the client's notifications
// came in) and returns it; a version that does not decode, or a deleted configuration, is
// logged and skipped, so the previous configuration stays in force. Stop cancels the
// listener and makes a blocked Next return context.Canceled, which ends Kratos' watch loop.
//
// The client belongs to the caller: Stop does not close it. nacos-sdk-go keeps one
// listener per data ID and group and client, so watch a configuration once per client.
// The client registers a new listener with the server within five seconds, and a change
// published while it is busy registering reaches it only at its next full resync, five
// minutes later (see nacostest.WaitClientsIdle); WithResync bounds that delay with a
// periodic re-read of its own.
//
// ParseURL reads the same settings from one nacos://host:8848?dataId=app.yaml string, for
// a -conf flag.
//
// Package nacostest runs an in-process Nacos server for tests.
package nacos

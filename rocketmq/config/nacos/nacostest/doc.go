// Package nacostest runs an in-process Nacos 2.x config server for tests: the part of the
// gRPC protocol nacos-sdk-go/v2's config client speaks, plus the HTTP login and the v1
// config open API, on loopback ports.
//
//	srv := nacostest.RunT(t)                          // listens on 127.0.0.1, closed at cleanup
//	srv.Publish("", "order", "app.yaml", "log:\n  level: info\n")
//	client, _ := clients.NewConfigClient(vo.NacosClientParam{
//		ClientConfig:  &constant.ClientConfig{CacheDir: t.TempDir(), LogDir: t.TempDir()},
//		ServerConfigs: []constant.ServerConfig{srv.ServerConfig()},
//	})
//	defer client.CloseClient()
//	// ... client.GetConfig, client.ListenConfig; srv.Publish again pushes the change.
//
// ServerConfig carries the gRPC port; Addr alone works too when the gRPC port is the HTTP
// port + 1000, which the server arranges when it can (see Start).
//
// Supported: ServerCheckRequest, the bi-stream with ConnectionSetupRequest,
// HealthCheckRequest, ConfigQueryRequest, ConfigPublishRequest (with compare-and-swap),
// ConfigRemoveRequest, ConfigBatchListenRequest and ConfigChangeNotifyRequest pushes with
// the real server's retries; namespaces ("" and "public" are one); access tokens from the
// HTTP login when WithAuth is set; SearchConfig over HTTP. One file per request type says
// what it honours and what it leaves out (gray releases, encryption, history, naming).
//
// Test hooks: Publish, Config, Delete and Listening read and change state directly,
// ConnectionIDs lists connected clients, ResetConnections makes clients reconnect,
// SetStarting makes the server answer like one still starting, DropPushes loses change
// notifications, WithPushRetry shortens the push retries. WaitClientsIdle and SDKGoroutines work around two nacos-sdk-go behaviours
// tests otherwise trip over (a push lost while the client is busy listening, goroutines the
// client never stops).
package nacostest

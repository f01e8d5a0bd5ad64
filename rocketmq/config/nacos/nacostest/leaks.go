package nacostest

import "go.uber.org/goleak"

// SDKGoroutines are goleak options ignoring the goroutines nacos-sdk-go v2.3.2 leaves
// running by itself after CloseClient, so tests can check that nothing else leaks:
//
//	defer goleak.VerifyNone(t, nacostest.SDKGoroutines()...)
//
// Everything else the client starts ends with CloseClient, some of it a few hundred
// milliseconds later (a request in flight finishes its retries first), so poll
// goleak.Find for a few seconds rather than checking once. One more leak is not ignored
// here because it takes gRPC's own goroutines with it: a client closed while it
// reconnects finishes the reconnect afterwards and keeps the new connection, with its
// gRPC goroutines and one blocked in RpcClient.notifyConnectionChange. Tests that make a
// client reconnect should see it work again (a successful request) before closing it.
func SDKGoroutines() []goleak.Option {
	return []goleak.Option{
		// The global file logger (zap over lumberjack v2.0.0) starts its rotation goroutine
		// with the first line logged; nothing ever stops it.
		goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"),
		// asyncNotifyListenConfig hands "run a listen round" to the client's loop on a new
		// goroutine over an unbuffered channel. CloseClient stops the loop, so a hand-over
		// still pending then (a push, a reconnect or a changed config just before) blocks
		// forever.
		goleak.IgnoreTopFunction("github.com/nacos-group/nacos-sdk-go/v2/clients/config_client.(*ConfigClient).asyncNotifyListenConfig.func1"),
	}
}

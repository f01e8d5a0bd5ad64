// Package reliability holds the template's app-level reliability tests: they run the
// service's binary (cmd/app) as a child process and prove that no order is lost or
// confirmed twice when
//
//   - the app is SIGKILLed at random points and restarted (TestAppCrash): every stored
//     order ends CONFIRMED once, with one OrderCreated and one OrderConfirmed;
//   - the broker (cmd/minirocketmq, a child process with a data directory) is SIGKILLed
//     and restarted under load while the app reconnects by itself (TestBrokerCrash);
//   - careless or hostile input arrives: malformed HTTP requests, wrong-schema messages,
//     bad configuration (TestBadInput, TestConfigErrorsNameTheKey).
//
// The tools (child processes, fault proxies, message tallies) are the library's
// (github.com/kratos-rocketmq/rocketmq/test/reliability), which also holds the
// transport-level reliability tests. Each test runs alone:
//
//	go test -race -run TestAppCrash ./reliability/      # from test/; RELIABILITY_SEED=N repeats a run
//	RELIABILITY_LONG=1 go test -race ./reliability/     # more crash runs, more messages (make reliability)
//
// Brokers: ROCKETMQ_NAMESRV when set, else an embedded one in the test process (rmqtest);
// TestBrokerCrash always runs its own. -short skips the tests that run child processes.
package reliability

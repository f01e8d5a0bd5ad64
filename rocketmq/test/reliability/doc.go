// Package reliability holds the tools of reliability tests, exported so that a service's
// own tests can use them too, and (in its test files) the library's reliability tests,
// which prove that no message is lost under the faults real deployments see:
//
//   - FaultProxy: a loopback TCP proxy that delays, resets, holds (a partition) or
//     refuses connections on command;
//   - Proc, Builder, BrokerChild: child processes built once per run (with -race when the
//     tests have it), watched line by line and SIGKILLed on purpose; BrokerChild is
//     cmd/minirocketmq on a data directory behind two proxies, to kill and restart;
//   - Tally, Flow, ReadDLQ: messages counted by key (sent, consumed, dead-lettered), so
//     that a lost one is named; Flow is keyed traffic through a Kratos transport server;
//   - Long, Pick, Seed: the short form (make test) or the long one (RELIABILITY_LONG=1),
//     and a logged random seed (RELIABILITY_SEED=N repeats a run).
//
// The tests here drive the transport and the broker: handler faults (errors, panics,
// poison payloads, handlers slower than the consume timeout), network faults, leaks of
// goroutines and file descriptors after every stop path, and a soak run (build tag soak):
//
//	go test -race -run TestHandlerFaults ./test/reliability/
//	go test -run NoRace ./test/reliability/            # the tests the client's races exclude from -race
//	RELIABILITY_LONG=1 go test -race ./test/reliability/  # more runs, more messages
//	go test -tags soak -run TestSoak ./test/reliability/
//
// Brokers come from ROCKETMQ_NAMESRV when it is set, else an embedded one in the test
// process (rmqtest), or cmd/minirocketmq as a child process for the tests that kill it.
// The template's maintainer module (test/reliability at the repository root) runs the
// tests that need the service's binary (app crash, bad input, broker crash under the
// app) with these tools.
package reliability

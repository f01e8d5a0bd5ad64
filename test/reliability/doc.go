// Package reliability holds the tests that prove the template loses no message under the
// faults real deployments see; it has no code of its own. Each test runs alone:
//
//	go test -race -run TestHandlerFaults ./test/reliability/
//	go test -run NoRace ./test/reliability/            # the tests the client's races exclude from -race
//	make reliability                                   # every test in its long form (more runs, more messages)
//	make soak                                          # 10 minutes at a fixed rate (build tag soak)
//
// What each test does, with the figures it logs (messages sent, consumed, dead-lettered,
// lost), is written above the test. Messages are counted by their key, so a message
// handled twice counts once and a missing one is named.
//
// Brokers: tests that only need a broker take ROCKETMQ_NAMESRV when it is set, else an
// embedded one in the test process (rmqtest). Tests that kill the broker run
// cmd/minirocketmq as a child process with a data directory; tests that kill the app run
// cmd/app as a child process. Both binaries are built once per test run.
//
// By default (what make test runs) every test does a few runs with few messages, to
// stay within about a minute and a half on two cores; RELIABILITY_LONG=1 (what make
// reliability sets) does many runs with more messages. -short skips the tests that run
// child processes.
package reliability

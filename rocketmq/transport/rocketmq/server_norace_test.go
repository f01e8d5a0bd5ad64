//go:build !race

// The v2 subtests of suites where rocketmq-client-go races with itself
// (client-quirks.md), run only in the non-race pass (`go test -run NoRace ./...` in
// make test): stopping a push consumer while its pulls still deliver messages
// (consumer/process_queue.go putMessage sends on pq.msgCh while
// (*defaultConsumer).shutdown closes it, consumer.go:306), answering a transaction
// check-back (the END_TRANSACTION goroutine reads rmqClient.close while Shutdown writes
// it), and the orderly push consumer (putMessage vs takeMessages). The bodies are in
// the race-enabled files, which run them for the race-free drivers.

package rocketmq

import (
	"testing"
)

// TestNoRaceServerStopDrainsAndLosesNothing is TestServerStopDrainsAndLosesNothing
// for the v2 driver.
func TestNoRaceServerStopDrainsAndLosesNothing(t *testing.T) {
	forDrivers(t, []DriverType{DriverTypeV2}, nil, testStopDrainsAndLosesNothing)
}

// TestNoRaceMetricsRetryOutcome is TestMetricsRetryOutcome for the v2 driver.
func TestNoRaceMetricsRetryOutcome(t *testing.T) {
	forDrivers(t, []DriverType{DriverTypeV2}, nil, testMetricsRetryOutcome)
}

// TestNoRaceServerTransactionsWithCheckBack is TestServerTransactionsWithCheckBack for
// the v2 driver, whose client races when it answers a check-back.
func TestNoRaceServerTransactionsWithCheckBack(t *testing.T) {
	forDrivers(t, []DriverType{DriverTypeV2}, transactionBroker, testTransactionsWithCheckBack)
}

// TestNoRaceServerFIFOOrder is TestServerFIFOOrder for the v2 driver, whose orderly
// consumer races with itself.
func TestNoRaceServerFIFOOrder(t *testing.T) {
	forDrivers(t, []DriverType{DriverTypeV2}, nil, testFIFOOrder)
}

package reliability

import (
	"strings"
	"testing"
)

const clientRace = `==================
WARNING: DATA RACE
Write at 0x00c000137018 by main goroutine:
  github.com/apache/rocketmq-client-go/v2/internal.(*rmqClient).Shutdown.func1()
      /go/pkg/mod/github.com/apache/rocketmq-client-go/v2/internal/client.go:555 +0x57
  github.com/kratos-rocketmq/rocketmq/broker/rocketmq.(*Broker).disconnectLocked()
      /src/broker.go:253 +0x984

Previous read at 0x00c000137018 by goroutine 42:
  github.com/apache/rocketmq-client-go/v2/internal.(*rmqClient).InvokeOneWay()
      /go/pkg/mod/github.com/apache/rocketmq-client-go/v2/internal/client.go:598 +0x4b

Goroutine 42 (running) created at:
  github.com/apache/rocketmq-client-go/v2/producer.(*transactionProducer).Start()
==================
`

const ourRace = `==================
WARNING: DATA RACE
Read at 0x00c0001a0010 by goroutine 9:
  github.com/kratos-rocketmq/rocketmq/broker/rocketmq.(*Broker).Publish()
      /src/producer.go:40 +0x57

Previous write at 0x00c0001a0010 by goroutine 8:
  github.com/apache/rocketmq-client-go/v2/internal.(*rmqClient).Shutdown.func1()
      /go/pkg/mod/github.com/apache/rocketmq-client-go/v2/internal/client.go:555 +0x57
==================
`

func TestClientRaces(t *testing.T) {
	for _, tc := range []struct {
		name    string
		output  string
		reports int
		ok      bool
	}{
		{"no race", "INFO stopped\n", 0, false},
		{"client race", "INFO x\n" + clientRace + "INFO y\n", 1, true},
		{"two client races", clientRace + clientRace, 2, true},
		{"one access in our code", ourRace, 1, false},
		{"a client race and ours", clientRace + ourRace, 2, false},
		{"truncated report", strings.Split(clientRace, "Previous read")[0], 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports, ok := ClientRaces(tc.output)
			if len(reports) != tc.reports || ok != tc.ok {
				t.Errorf("ClientRaces = %d reports, %v; want %d, %v", len(reports), ok, tc.reports, tc.ok)
			}
		})
	}
}

package nacostest

import (
	"bytes"
	"runtime"
	"time"
)

// nacos-sdk-go v2.3.2 loses a change notification that arrives while its listen loop is
// still handling the answer to a ConfigBatchListenRequest: the push handler marks the
// configuration out of sync, then the loop, working on a copy taken before, marks it in
// sync again, and nothing re-reads it until the client's full resync five minutes later
// (ConfigClient.executeConfigListen). Against a real server the same happens to a change
// published the moment a client (re)starts listening. A test that publishes right after
// it saw the client listen hits that window, so it should wait for the loop to go idle
// first; WaitClientsIdle does.

// listenRoundFrame is on a goroutine's stack while a config client runs a listen round.
var listenRoundFrame = []byte("config_client.(*ConfigClient).executeConfigListen(")

// WaitClientsIdle waits until no nacos-sdk-go config client in the process has run a
// listen round for a short quiet period (50ms), failing t after d. Call it after Listening
// shows the client registered and before publishing a change the test expects pushed.
//
// It reads goroutine stacks: the client offers no other signal. The quiet period covers a
// round the loop is about to start (a hand-over goroutine not yet scheduled); hand-overs
// orphaned by a closed client (see SDKGoroutines) never start one and are ignored.
func WaitClientsIdle(t Tester, d time.Duration) {
	t.Helper()
	const quietPolls = 5
	deadline := time.Now().Add(d)
	buf := make([]byte, 1<<20)
	for quiet := 0; quiet < quietPolls; {
		n := runtime.Stack(buf, true)
		for n == len(buf) {
			buf = make([]byte, 2*len(buf))
			n = runtime.Stack(buf, true)
		}
		if bytes.Contains(buf[:n], listenRoundFrame) {
			quiet = 0
		} else {
			quiet++
		}
		if time.Now().After(deadline) {
			t.Fatalf("nacostest: config clients still busy listening after %s", d)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

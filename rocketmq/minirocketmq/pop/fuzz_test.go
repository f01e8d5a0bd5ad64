package pop_test

import (
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// FuzzParseHandle: receipt handles come from the network; parsing any
// string never panics, and what parses encodes back to itself.
func FuzzParseHandle(f *testing.F) {
	f.Add("42 1700000000000 30000 999 0 broker-a 3 42 4096 7")
	f.Add("0 1 2 0 0 b 0 0 0 0")
	f.Add("")
	f.Add("1 2 3 4 5 6 7 8 9 10 11")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := pop.ParseHandle(s)
		if err != nil {
			return
		}
		back, err := pop.ParseHandle(h.String())
		if err != nil {
			t.Fatalf("%q parses, its encoding %q does not: %v", s, h.String(), err)
		}
		if back.String() != h.String() {
			t.Fatalf("%q: %q then %q", s, h.String(), back.String())
		}
	})
}

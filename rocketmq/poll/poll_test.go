package poll_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/poll"
)

// fakeT records what Until reports; Fatalf ends the calling goroutine as testing.T's
// does.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = format
	for _, a := range args {
		f.failed += " " + toString(a)
	}
	panic(f)
}

func toString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case time.Duration:
		return v.String()
	}
	return "?"
}

// run calls Until on a fakeT and returns what it reported ("" when it returned).
func run(within time.Duration, cond func() bool) (failure string) {
	ft := &fakeT{}
	defer func() {
		if r := recover(); r != nil {
			if r != ft {
				panic(r)
			}
			failure = ft.failed
		}
	}()
	poll.Until(ft, within, "the thing", cond)
	return ""
}

func TestUntil(t *testing.T) {
	tests := []struct {
		name    string
		within  time.Duration
		trueAt  int32 // the call from which cond holds; 0: never
		wantErr bool
	}{
		{"holds at once", time.Second, 1, false},
		{"holds on the fifth call", 5 * time.Second, 5, false},
		{"never holds", 100 * time.Millisecond, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			start := time.Now()
			failure := run(tc.within, func() bool {
				n := calls.Add(1)
				return tc.trueAt != 0 && n >= tc.trueAt
			})
			if got := failure != ""; got != tc.wantErr {
				t.Fatalf("failed = %v (%q), want %v", got, failure, tc.wantErr)
			}
			if tc.wantErr {
				if !strings.Contains(failure, "the thing") || !strings.Contains(failure, tc.within.String()) {
					t.Errorf("failure %q does not name what and how long", failure)
				}
				if time.Since(start) < tc.within {
					t.Errorf("gave up after %s, before its deadline %s", time.Since(start), tc.within)
				}
				return
			}
			if calls.Load() != tc.trueAt {
				t.Errorf("cond called %d times, want %d (Until must stop once it holds)", calls.Load(), tc.trueAt)
			}
		})
	}
}

package minirocketmq_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

func TestParseDelayLevels(t *testing.T) {
	s, m, h := time.Second, time.Minute, time.Hour
	tests := []struct {
		spec string
		want []time.Duration
		ok   bool
	}{
		{minirocketmq.DefaultMessageDelayLevel, []time.Duration{s, 5 * s, 10 * s, 30 * s, m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m, 10 * m, 20 * m, 30 * m, h, 2 * h}, true},
		{"  250ms 1s\t2d ", []time.Duration{250 * time.Millisecond, s, 48 * h}, true},
		{"1.5s", []time.Duration{1500 * time.Millisecond}, true},
		{"", nil, false},
		{"1s 0s", nil, false},
		{"1s -5s", nil, false},
		{"1x", nil, false},
		{"soon", nil, false},
	}
	for _, tc := range tests {
		got, err := minirocketmq.ParseDelayLevels(tc.spec)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseDelayLevels(%q) = %v, %v; want %v (ok %t)", tc.spec, got, err, tc.want, tc.ok)
		}
	}
}

// TestSemanticsOptionsRejected: invalid values make New fail instead of
// being ignored.
func TestSemanticsOptionsRejected(t *testing.T) {
	for name, opt := range map[string]minirocketmq.Option{
		"no delay levels":      minirocketmq.WithDelayLevels(),
		"zero delay level":     minirocketmq.WithDelayLevels(time.Second, 0),
		"zero check interval":  minirocketmq.WithTransactionCheckInterval(0),
		"negative tx timeout":  minirocketmq.WithTransactionTimeout(-time.Second),
		"zero check max":       minirocketmq.WithTransactionCheckMax(0),
		"negative lock expiry": minirocketmq.WithLockExpiry(-1),
	} {
		if b, err := minirocketmq.New(opt); err == nil {
			_ = b.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
	b, err := minirocketmq.New(minirocketmq.WithDelayLevels(time.Second, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if tc, ok := b.Topic(minirocketmq.ScheduleTopic); !ok || tc.ReadQueueNums != 2 || tc.WriteQueueNums != 2 {
		t.Fatalf("schedule topic %+v with two delay levels", tc)
	}
}

package minirocketmq

import (
	"strconv"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// nowReal is the wall clock for network timing (heartbeat expiry), which
// never follows a manual Clock.
func (b *Broker) nowReal() time.Time { return time.Now() }

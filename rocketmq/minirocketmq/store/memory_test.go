package store_test

import (
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		// Small segments, so records span several of them.
		s := store.NewMemory(store.WithNow(now), store.WithSegmentSize(300))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

package disk_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/disk"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		// Small segments and index files, so records span several of each.
		s, err := disk.Open(memTempDir(t), disk.WithNow(now), disk.WithSegmentSize(700), disk.WithQueueFileEntries(3))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

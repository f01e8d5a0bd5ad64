package disk_test

import (
	"bufio"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store/disk"
)

func benchMsg(size int) *message.Message {
	return &message.Message{
		Topic: "BenchTopic", Body: make([]byte, size),
		Properties: "KEYS\x01k\x02UNIQ_KEY\x01AC1100010001000000000000\x02CLUSTER\x01DefaultCluster\x02",
		BornHost:   netip.MustParseAddrPort("127.0.0.1:5000"), StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
	}
}

// BenchmarkPut appends 1 KiB messages to one queue: the in-memory store,
// the disk store as ASYNC_FLUSH uses it (Put only), and as SYNC_FLUSH does
// (Put, then wait for AfterSync) from 16 goroutines sharing fsyncs. Run
// them together and compare: only ratios from one run mean anything on a
// shared machine.
//
//	go test -run '^$' -bench Put -benchtime 2s ./minirocketmq/store/disk
func BenchmarkPut(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		s := store.NewMemory()
		defer s.Close()
		benchPut(b, s, false)
	})
	b.Run("async", func(b *testing.B) {
		s, err := disk.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchPut(b, s, false)
	})
	b.Run("sync16", func(b *testing.B) {
		s, err := disk.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchPut(b, s, true)
	})
}

func benchPut(b *testing.B, s store.Store, sync bool) {
	b.SetBytes(1024)
	b.ReportAllocs()
	if !sync {
		m := benchMsg(1024)
		msgs := []*message.Message{m}
		for b.Loop() {
			m.BodyCRC = 0
			if err := s.Put(msgs); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	syncer := s.(store.Syncer)
	b.SetParallelism(16 / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		m := benchMsg(1024)
		msgs := []*message.Message{m}
		done := make(chan error, 1)
		for pb.Next() {
			if err := s.Put(msgs); err != nil {
				b.Error(err)
				return
			}
			syncer.AfterSync(func(err error) { done <- err })
			if err := <-done; err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRSS writes 256 MiB of 1 KiB messages through the disk store
// (and reads them all back once) and reports how much the process's
// resident set grew, scaled to one GiB stored: the store keeps only index
// entries in memory, message bodies stay on disk. b.N is ignored; run it
// with -benchtime 1x.
//
//	go test -run '^$' -bench RSS -benchtime 1x ./minirocketmq/store/disk
func BenchmarkRSS(b *testing.B) {
	const total = 256 << 20
	s, err := disk.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := benchMsg(1024)
	msgs := []*message.Message{m}
	stored := 0
	runtime.GC()
	debug.FreeOSMemory()
	before := rssBytes(b)
	b.ResetTimer()
	for q := int32(0); stored < total; q = (q + 1) % 4 {
		m.QueueID, m.BodyCRC = q, 0
		if err := s.Put(msgs); err != nil {
			b.Fatal(err)
		}
		stored += 1024
	}
	var wg sync.WaitGroup
	for q := range int32(4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 256<<10)
			for off := int64(0); ; {
				res, err := s.Get(&store.GetRequest{Topic: m.Topic, QueueID: q, Offset: off, Dst: buf[:0]})
				if err != nil {
					b.Error(err)
					return
				}
				if res.Status != store.Found {
					return
				}
				off = res.NextOffset
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	runtime.GC()
	after := rssBytes(b)
	growth := float64(after-before) / (1 << 20)
	b.ReportMetric(growth*float64(1<<30)/float64(stored), "rss_MiB/GiB")
	b.ReportMetric(float64(stored)/(1<<20), "stored_MiB")
}

// rssBytes reads VmRSS from /proc/self/status.
func rssBytes(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Skip("no VmRSS")
	return 0
}

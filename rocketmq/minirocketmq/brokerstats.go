package minirocketmq

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Broker statistics for the admin tools (BrokerStatsManager): messages put
// per topic (TOPIC_PUT_NUMS) and pulled per topic@group (GROUP_GET_NUMS),
// over the last minute, hour and day, as VIEW_BROKER_STATS_DATA (315,
// mqadmin statsAll) and the runtime info (28, mqadmin brokerStatus) report
// them; avgpt is the messages per call (per send or pull), as the real
// broker's.
//
// Owner: statsTable's mutex; totals are atomics. The table holds at most
// maxStatsKeys keys (a key is a topic or topic@group that saw traffic);
// past that new keys are not counted, and keys without traffic for a day
// are dropped (prune, from the expiry loop), as are a deleted topic's.

// Stats names (BrokerStatsManager).
const (
	statsTopicPutNums = "TOPIC_PUT_NUMS"
	statsGroupGetNums = "GROUP_GET_NUMS"
)

// maxStatsKeys bounds the statistics table.
const maxStatsKeys = 10000

// statsWindow is one resolution of a rate counter: a ring of buckets of
// width, each remembering the bucket start it counts for.
type statsWindow struct {
	width   int64 // seconds
	buckets []statsBucket
}

type statsBucket struct {
	start int64 // unix seconds
	n     int64 // messages
	times int64 // calls that counted them (avgpt = n / times)
}

func newStatsWindow(width int64, n int) statsWindow {
	return statsWindow{width: width, buckets: make([]statsBucket, n)}
}

func (w *statsWindow) add(now, n int64) {
	start := now / w.width * w.width
	b := &w.buckets[(now/w.width)%int64(len(w.buckets))]
	if b.start != start {
		b.start, b.n, b.times = start, 0, 0
	}
	b.n += n
	b.times++
}

// sum counts the buckets that started within span seconds before now.
func (w *statsWindow) sum(now, span int64) int64 {
	s, _ := w.sumTimes(now, span)
	return s
}

// sumTimes is sum and the number of calls it came in.
func (w *statsWindow) sumTimes(now, span int64) (int64, int64) {
	var s, times int64
	for _, b := range w.buckets {
		if b.start > now-span && b.start <= now {
			s += b.n
			times += b.times
		}
	}
	return s, times
}

// statsItem counts one key in 10 s buckets for the minute, minute buckets
// for the hour and hour buckets for the day (under 1 KiB per key).
type statsItem struct {
	tenSec, minute, hour statsWindow
	last                 int64 // unix seconds of the last add
}

func newStatsItem() *statsItem {
	return &statsItem{tenSec: newStatsWindow(10, 7), minute: newStatsWindow(60, 61), hour: newStatsWindow(3600, 25)}
}

// statsSnapshot is BrokerStatsItem: the sum over a window and its rate.
type statsSnapshot struct {
	Sum   int64   `json:"sum"`
	Tps   float64 `json:"tps"`
	Avgpt float64 `json:"avgpt"`
}

type statsTable struct {
	mu    sync.Mutex
	items map[string]*statsItem // name + "\x00" + key
	// all counts every key of a name, outside maxStatsKeys.
	all map[string]*statsItem
	// The totals at the start of today and of yesterday (local time),
	// for the runtime info; day is the date they were taken on.
	day                                                string
	putMorning, getMorning, putYesterday, getYesterday int64

	putTotal, getTotal atomic.Int64
}

// dayTotals is what the runtime info reports of the totals.
type dayTotals struct {
	putNow, putMorning, putYesterday int64
	getNow, getMorning, getYesterday int64
}

// totals returns the totals now, this morning and yesterday morning.
func (t *statsTable) totals(now time.Time) dayTotals {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rollDayLocked(now)
	return dayTotals{t.putTotal.Load(), t.putMorning, t.putYesterday, t.getTotal.Load(), t.getMorning, t.getYesterday}
}

// rollDayLocked moves the morning totals when the local date changed.
func (t *statsTable) rollDayLocked(now time.Time) {
	day := now.Format(time.DateOnly)
	if t.day == day {
		return
	}
	if t.day != "" {
		t.putYesterday, t.getYesterday = t.putMorning, t.getMorning
		t.putMorning, t.getMorning = t.putTotal.Load(), t.getTotal.Load()
	}
	t.day = day
}

// rates returns a name's messages per second over the last 10 s, minute
// and 10 minutes.
func (t *statsTable) rates(name string, now time.Time) [3]float64 {
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	it := t.all[name]
	if it == nil {
		return [3]float64{}
	}
	return [3]float64{float64(it.tenSec.sum(sec, 10)) / 10, float64(it.tenSec.sum(sec, 60)) / 60, float64(it.minute.sum(sec, 600)) / 600}
}

func newStatsTable() *statsTable {
	return &statsTable{items: make(map[string]*statsItem), all: make(map[string]*statsItem)}
}

func (t *statsTable) add(name, key string, n int64, now time.Time) {
	if n <= 0 {
		return
	}
	switch name {
	case statsTopicPutNums:
		t.putTotal.Add(n)
	case statsGroupGetNums:
		t.getTotal.Add(n)
	}
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rollDayLocked(now)
	total := t.all[name]
	if total == nil {
		total = newStatsItem()
		t.all[name] = total
	}
	total.tenSec.add(sec, n)
	total.minute.add(sec, n)
	total.hour.add(sec, n)
	k := name + "\x00" + key
	it := t.items[k]
	if it == nil {
		if len(t.items) >= maxStatsKeys {
			return
		}
		it = newStatsItem()
		t.items[k] = it
	}
	it.tenSec.add(sec, n)
	it.minute.add(sec, n)
	it.hour.add(sec, n)
	it.last = sec
}

// get returns the minute, hour and day figures of a key; false when the
// key saw no traffic.
func (t *statsTable) get(name, key string, now time.Time) (minute, hour, day statsSnapshot, ok bool) {
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	it := t.items[name+"\x00"+key]
	if it == nil {
		return minute, hour, day, false
	}
	snap := func(w *statsWindow, span int64) statsSnapshot {
		sum, times := w.sumTimes(sec, span)
		st := statsSnapshot{Sum: sum, Tps: float64(sum) / float64(span)}
		if times > 0 {
			st.Avgpt = float64(sum) / float64(times)
		}
		return st
	}
	return snap(&it.tenSec, 60), snap(&it.minute, 3600), snap(&it.hour, 86400), true
}

// prune drops keys idle for a day.
func (t *statsTable) prune(now time.Time) {
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, it := range t.items {
		if sec-it.last > 86400 {
			delete(t.items, k)
		}
	}
}

// deleteTopic drops the keys of a topic.
func (t *statsTable) deleteTopic(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.items {
		_, key, _ := strings.Cut(k, "\x00")
		if key == topic || strings.HasPrefix(key, topic+"@") {
			delete(t.items, k)
		}
	}
}

// deleteGroup drops the keys of a consumer group.
func (t *statsTable) deleteGroup(group string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.items {
		if strings.HasSuffix(k, "@"+group) {
			delete(t.items, k)
		}
	}
}

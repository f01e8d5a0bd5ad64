package minirocketmq

import "sync"

// offsetTable holds the consumer offsets of clustering groups
// (ConsumerOffsetManager): the next queue offset each group will consume.
// Owner: its mutex.
type offsetTable struct {
	mu      sync.Mutex
	m       map[offsetKey]int64
	version int64 // counts changes, so the persister writes only new state
}

type offsetKey struct {
	group, topic string
	queueID      int32
}

func newOffsetTable() *offsetTable { return &offsetTable{m: make(map[offsetKey]int64)} }

func (t *offsetTable) commit(group, topic string, queueID int32, offset int64) {
	t.mu.Lock()
	k := offsetKey{group, topic, queueID}
	if old, ok := t.m[k]; !ok || old != offset {
		t.m[k] = offset
		t.version++
	}
	t.mu.Unlock()
}

func (t *offsetTable) query(group, topic string, queueID int32) (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	off, ok := t.m[offsetKey{group, topic, queueID}]
	return off, ok
}

// deleteTopic forgets every group's offsets of topic.
func (t *offsetTable) deleteTopic(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.m {
		if k.topic == topic {
			delete(t.m, k)
			t.version++
		}
	}
}

// snapshot returns a copy of the table and its version.
func (t *offsetTable) snapshot() (map[offsetKey]int64, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[offsetKey]int64, len(t.m))
	for k, v := range t.m {
		m[k] = v
	}
	return m, t.version
}

// groupOffsets returns the offsets a group committed, by topic and queue.
func (t *offsetTable) groupOffsets(group string) map[offsetKey]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[offsetKey]int64)
	for k, off := range t.m {
		if k.group == group {
			out[k] = off
		}
	}
	return out
}

// groupsOfTopic returns the groups that committed offsets of topic
// (ConsumerOffsetManager.whichGroupByTopic), the delay levels' cursors
// left out.
func (t *offsetTable) groupsOfTopic(topic string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := make(map[string]bool)
	var out []string
	for k := range t.m {
		if k.topic == topic && k.group != scheduleGroup && !seen[k.group] {
			seen[k.group] = true
			out = append(out, k.group)
		}
	}
	return out
}

// topicsOfGroup returns the topics a group committed offsets of
// (whichTopicByConsumer).
func (t *offsetTable) topicsOfGroup(group string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := make(map[string]bool)
	var out []string
	for k := range t.m {
		if k.group == group && !seen[k.topic] {
			seen[k.topic] = true
			out = append(out, k.topic)
		}
	}
	return out
}

// deleteGroup forgets every offset of a group.
func (t *offsetTable) deleteGroup(group string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.m {
		if k.group == group {
			delete(t.m, k)
			t.version++
		}
	}
}

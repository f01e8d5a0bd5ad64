package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
)

// cqueue is the index of one queue (the Java broker's ConsumeQueue): files
// of fixed-size entries under consumequeue/<topic>/<queueId>/, each named
// after the queue offset of its first entry, plus the newest entries not
// yet written (pending), which Put appends and the indexer writes out.
//
// Owner: mu guards every field but the immutable ones. Readers copy what
// they need under mu (the pending slice header included: entries are only
// ever appended to it, and the indexer replaces it rather than changing its
// elements) and read files after releasing it; the store's files lock keeps
// the files from being removed meanwhile.
type cqueue struct {
	topic string
	id    int32
	dir   string
	cap   int64 // entries per file

	mu      sync.Mutex
	files   []*cqFile
	min     int64     // first queue offset still stored
	max     int64     // next queue offset to be written
	written int64     // entries below are in files
	pending []entry   // entries [written, max)
	dirty   []*cqFile // files written to since their last fsync
}

// cqFile is one index file. n may be short of the next file's first
// offset in a file damaged by a crash; the missing entries read as holes.
type cqFile struct {
	first int64
	path  string
	f     *os.File
	n     int64 // entries in the file
	dirty bool  // written to since its last fsync
}

// queueView is a snapshot of a queue taken under its lock: the files are
// copied (the writer changes their entry counts), the pending slice is
// shared (entries are only ever appended to it).
type queueView struct {
	q       *cqueue
	min     int64
	max     int64
	written int64
	files   []cqFile
	pending []entry
}

func (q *cqueue) view() queueView {
	q.mu.Lock()
	defer q.mu.Unlock()
	files := make([]cqFile, len(q.files))
	for i, cf := range q.files {
		files[i] = *cf
	}
	return queueView{q: q, min: q.min, max: q.max, written: q.written, files: files, pending: q.pending}
}

// entries appends to dst the entries [from, to) of the view; to <= v.max.
func (v *queueView) entries(dst []entry, from, to int64) ([]entry, error) {
	if from < v.written {
		end := min(to, v.written)
		var err error
		if dst, err = readFileEntries(dst, v.files, from, end); err != nil {
			return dst, err
		}
		from = end
	}
	if from < to {
		dst = append(dst, v.pending[from-v.written:to-v.written]...)
	}
	return dst, nil
}

// entry returns the entry at queue offset i of the view.
func (v *queueView) entry(i int64) (entry, error) {
	var one [1]entry
	es, err := v.entries(one[:0], i, i+1)
	if err != nil || len(es) == 0 {
		return entry{off: holeOffset}, err
	}
	return es[0], nil
}

// readFileEntries appends the entries [from, to) found in files.
func readFileEntries(dst []entry, files []cqFile, from, to int64) ([]entry, error) {
	i := sort.Search(len(files), func(i int) bool { return files[i].first > from }) - 1
	var buf [256 * entrySize]byte
	for from < to {
		if i < 0 || i >= len(files) {
			dst = append(dst, entry{off: holeOffset})
			from++
			continue
		}
		cf := files[i]
		limit := to
		if i+1 < len(files) {
			limit = min(limit, files[i+1].first)
		}
		if from >= limit {
			i++
			continue
		}
		inFile := min(limit, cf.first+cf.n)
		for from < inFile {
			k := min(inFile-from, int64(len(buf)/entrySize))
			b := buf[:k*entrySize]
			if _, err := cf.f.ReadAt(b, (from-cf.first)*entrySize); err != nil {
				return dst, fmt.Errorf("read index %s: %w", cf.path, err)
			}
			for j := int64(0); j < k; j++ {
				dst = append(dst, readEntry(b[j*entrySize:]))
			}
			from += k
		}
		for ; from < limit; from++ { // missing entries of a damaged file
			dst = append(dst, entry{off: holeOffset})
		}
		i++
	}
	return dst, nil
}

// openQueue loads a queue's index files from dir; the last one's torn
// tail (a partial entry) is cut off.
func openQueue(dir, topic string, id int32, capacity int64) (*cqueue, error) {
	q := &cqueue{topic: topic, id: id, dir: dir, cap: capacity}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		first, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || e.IsDir() || len(e.Name()) != 20 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			q.close()
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
		st, err := f.Stat()
		if err != nil {
			_ = f.Close()
			q.close()
			return nil, fmt.Errorf("stat index %s: %w", path, err)
		}
		q.files = append(q.files, &cqFile{first: first, path: path, f: f, n: st.Size() / entrySize})
	}
	sort.Slice(q.files, func(i, j int) bool { return q.files[i].first < q.files[j].first })
	if n := len(q.files); n > 0 {
		last := q.files[n-1]
		if err := last.f.Truncate(last.n * entrySize); err != nil {
			q.close()
			return nil, fmt.Errorf("truncate index %s: %w", last.path, err)
		}
		q.min = q.files[0].first
		q.max = last.first + last.n
		q.written = q.max
	}
	return q, nil
}

func (q *cqueue) close() {
	for _, cf := range q.files {
		_ = cf.f.Close()
	}
}

// writePending writes the entries pending at the time of the call to the
// index files and reports whether there were any. Only the indexer calls
// it, with the store's files lock read-held.
func (q *cqueue) writePending() (bool, error) {
	q.mu.Lock()
	p, at := q.pending, q.written
	files := q.files
	q.mu.Unlock()
	if len(p) == 0 {
		return false, nil
	}
	buf := make([]byte, 0, min(len(p), 4096)*entrySize)
	for done := 0; done < len(p); {
		var cf *cqFile
		if n := len(files); n > 0 && files[n-1].n < q.cap {
			cf = files[n-1]
		} else {
			if err := os.MkdirAll(q.dir, 0o755); err != nil {
				return false, fmt.Errorf("create %s: %w", q.dir, err)
			}
			path := filepath.Join(q.dir, queueFileName(at))
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return false, fmt.Errorf("create index %s: %w", path, err)
			}
			cf = &cqFile{first: at, path: path, f: f}
			q.mu.Lock()
			q.files = append(q.files, cf)
			files = q.files
			q.mu.Unlock()
		}
		k := min(int64(len(p)-done), q.cap-cf.n, 4096)
		buf = buf[:k*entrySize]
		for j := int64(0); j < k; j++ {
			p[done+int(j)].put(buf[j*entrySize:])
		}
		if _, err := cf.f.WriteAt(buf, cf.n*entrySize); err != nil {
			return false, fmt.Errorf("write index %s: %w", cf.path, err)
		}
		q.mu.Lock()
		cf.n += k
		q.written += k
		q.pending = append([]entry(nil), q.pending[k:]...)
		if !cf.dirty {
			cf.dirty = true
			q.dirty = append(q.dirty, cf)
		}
		q.mu.Unlock()
		done += int(k)
		at += k
	}
	return true, nil
}

// sync fsyncs the index files written to since the last call. Only the
// indexer and Close call it, with the store's files lock held.
func (q *cqueue) sync() error {
	q.mu.Lock()
	files := q.dirty
	q.dirty = nil
	for _, cf := range files {
		cf.dirty = false
	}
	q.mu.Unlock()
	for _, cf := range files {
		if err := cf.f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("sync index %s: %w", cf.path, err)
		}
	}
	return nil
}

// truncateFrom drops the entries whose commit-log offset is >= off (and
// holes after them), from the end; recovery then indexes those records
// again. Entries of a queue are in commit-log order. Used by Open only.
func (q *cqueue) truncateFrom(off int64) error {
	v := q.view()
	keep := v.max
	const chunk = 4096
	for keep > v.min {
		from := max(v.min, keep-chunk)
		es, err := v.entries(nil, from, keep)
		if err != nil {
			return err
		}
		i := len(es)
		for i > 0 && (es[i-1].off == holeOffset || es[i-1].off >= off) {
			i--
		}
		keep = from + int64(i)
		if i > 0 {
			break
		}
	}
	if keep == v.max {
		return nil
	}
	return q.cutAt(keep)
}

// cutAt makes keep the queue's max offset, removing index files and entries
// from there on. Used by Open only, before anything else sees the queue.
func (q *cqueue) cutAt(keep int64) error {
	q.pending = nil
	for len(q.files) > 0 {
		last := q.files[len(q.files)-1]
		if last.first < keep || (last.first == keep && len(q.files) == 1) {
			n := min(last.n, keep-last.first)
			if err := last.f.Truncate(n * entrySize); err != nil {
				return fmt.Errorf("truncate index %s: %w", last.path, err)
			}
			last.n = n
			break
		}
		_ = last.f.Close()
		if err := removeFile(last.path); err != nil {
			return fmt.Errorf("remove index %s: %w", last.path, err)
		}
		q.files = q.files[:len(q.files)-1]
	}
	q.max, q.written = keep, keep
	if q.min > keep || len(q.files) == 0 {
		q.min = keep
	}
	return nil
}

// trimBelow moves the queue's min offset past the entries that point below
// logMin (their segments were removed) and removes index files left with
// no live entry; it returns how many entries it moved past. The caller
// holds the store's files lock exclusively.
func (q *cqueue) trimBelow(logMin int64) (int64, error) {
	return q.trimGone(func(off int64) bool { return off >= logMin })
}

// trimGone is trimBelow for a log with gaps: the min offset moves past the
// entries whose record is not present any more.
func (q *cqueue) trimGone(present func(off int64) bool) (int64, error) {
	v := q.view()
	newMin := v.min
	const chunk = 4096
scan:
	for newMin < v.max {
		to := min(v.max, newMin+chunk)
		es, err := v.entries(nil, newMin, to)
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			if e.off != holeOffset && present(e.off) {
				break scan
			}
			newMin++
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	moved := max(newMin-q.min, 0)
	q.min = max(q.min, newMin)
	for len(q.files) > 0 {
		cf := q.files[0]
		next := cf.first + cf.n
		if len(q.files) > 1 {
			next = q.files[1].first
		}
		if next > q.min {
			break
		}
		_ = cf.f.Close()
		if err := removeFile(cf.path); err != nil {
			return moved, fmt.Errorf("remove index %s: %w", cf.path, err)
		}
		q.files = q.files[1:]
	}
	return moved, nil
}

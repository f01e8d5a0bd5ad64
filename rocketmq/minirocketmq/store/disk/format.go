package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
)

// FormatVersion is the version of the on-disk layout this package writes
// and reads. A directory written with another version is refused by Open
// with ErrIncompatibleFormat rather than misread.
const FormatVersion = 1

// ErrIncompatibleFormat is returned by Open for a directory whose FORMAT
// file names a version this build cannot read, or that holds files but no
// FORMAT file.
var ErrIncompatibleFormat = errors.New("disk store: incompatible format")

const (
	formatFile     = "FORMAT"
	formatPrefix   = "minirocketmq store format "
	checkpointFile = "checkpoint"
	deletedFile    = "deleted.json"
	commitLogDir   = "commitlog"
	queueDir       = "consumequeue"
	keysSuffix     = ".keys"
	tmpSuffix      = ".tmp"
	trashPrefix    = ".trash-"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameHeader is the CRC32-C (Castagnoli) of the record that follows it in
// the commit log. A frame's commit-log offset is the position of this
// header; the record (message.AppendRecord) starts 4 bytes later.
const frameHeader = 4

// minRecordSize is the smallest record message.AppendRecord produces
// (IPv4 hosts, empty body, topic and properties).
const minRecordSize = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4 + 1 + 2

// maxRecordSize bounds TOTALSIZE when scanning: larger values are garbage.
const maxRecordSize = 1 << 30

// segmentName is the file name of the segment starting at base: 20 digits,
// as the Java broker names its commit-log files.
func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// queueFileName is the name of the index file whose first entry has queue
// offset first.
func queueFileName(first int64) string { return fmt.Sprintf("%020d", first) }

// entrySize is the size of one consume-queue entry: commit-log offset (8),
// record size (4), tag code (8), store timestamp (8). The Java broker's
// entries have no store time (20 bytes); keeping it here makes
// OffsetByTime a binary search over the index alone.
const entrySize = 28

// holeOffset marks an index entry that points at nothing (a queue offset
// whose record was lost); readers skip it like a filtered entry.
const holeOffset = -1

// entry is one consume-queue entry.
type entry struct {
	off  int64 // commit-log offset of the frame
	size int32 // record size, without the frame header
	tags int64
	ts   int64
}

func (e entry) frameSize() int64 { return int64(e.size) + frameHeader }

func (e entry) put(b []byte) {
	binary.BigEndian.PutUint64(b[0:], uint64(e.off))
	binary.BigEndian.PutUint32(b[8:], uint32(e.size))
	binary.BigEndian.PutUint64(b[12:], uint64(e.tags))
	binary.BigEndian.PutUint64(b[20:], uint64(e.ts))
}

func readEntry(b []byte) entry {
	return entry{
		off:  int64(binary.BigEndian.Uint64(b[0:])),
		size: int32(binary.BigEndian.Uint32(b[8:])),
		tags: int64(binary.BigEndian.Uint64(b[12:])),
		ts:   int64(binary.BigEndian.Uint64(b[20:])),
	}
}

// keyHash is the key-index hash of a key of a topic (FNV-1a, 64 bits).
func keyHash(topic, key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(topic))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

// checkFormat creates the FORMAT file of an empty directory, or checks the
// one that is there.
func checkFormat(dir string) error {
	path := filepath.Join(dir, formatFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") && e.Name() != "LOCK" {
				return fmt.Errorf("%w: %s holds %s but no %s file; not a store of this version", ErrIncompatibleFormat, dir, e.Name(), formatFile)
			}
		}
		return writeFileAtomic(path, []byte(fmt.Sprintf("%s%d\n", formatPrefix, FormatVersion)))
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w: read %s: %v", ErrIncompatibleFormat, path, err)
	}
	line = strings.TrimSpace(line)
	var v int
	if !strings.HasPrefix(line, formatPrefix) {
		return fmt.Errorf("%w: %s says %q", ErrIncompatibleFormat, path, line)
	}
	if _, err := fmt.Sscan(strings.TrimPrefix(line, formatPrefix), &v); err != nil {
		return fmt.Errorf("%w: %s says %q", ErrIncompatibleFormat, path, line)
	}
	if v != FormatVersion {
		return fmt.Errorf("%w: %s was written with format version %d; this build reads version %d", ErrIncompatibleFormat, dir, v, FormatVersion)
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file is written and
// fsynced, renamed over path, and the directory fsynced, so a crash leaves
// either the old or the new content.
func writeFileAtomic(path string, data []byte) error { return writeFile(path, data, true) }

// writeFile writes data to a temporary file renamed over path; with
// durable, the file and its directory are fsynced too.
func writeFile(path string, data []byte, durable bool) error {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if !durable {
		return nil
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that files created, renamed or removed in
// it stay so after a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// The checkpoint file holds one commit-log offset C: every record below C
// has its consume-queue entry written and fsynced, and the log below C is
// fsynced too. Recovery re-indexes from C. Layout: magic, offset, CRC32-C
// of the first 12 bytes.
const checkpointMagic = uint32(0x4D514350) // "MQCP"

func encodeCheckpoint(off int64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b[0:], checkpointMagic)
	binary.BigEndian.PutUint64(b[4:], uint64(off))
	binary.BigEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	return b
}

// readCheckpoint returns the checkpoint, 0 when there is none, and an
// error only for an unreadable file; a damaged one reads as 0 (re-index
// everything), which is always safe.
func readCheckpoint(dir string) (int64, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read checkpoint: %w", err)
	}
	if len(b) != 16 || binary.BigEndian.Uint32(b) != checkpointMagic ||
		binary.BigEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli) {
		return 0, false, nil
	}
	return int64(binary.BigEndian.Uint64(b[4:])), true, nil
}

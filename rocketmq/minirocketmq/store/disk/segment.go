package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// segment is one commit-log file. Records never span segments; the active
// (last) segment is the only one written to.
type segment struct {
	base int64 // commit-log offset of its first byte
	path string
	f    *os.File
	size atomic.Int64 // bytes written; fixed once sealed

	// Key index of a sealed segment (its .keys file); see keys.go.
	keys keyFileHeader
}

func (g *segment) end() int64 { return g.base + g.size.Load() }

// listSegments opens the segment files of dir, oldest first.
func listSegments(dir string) ([]*segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var segs []*segment
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || len(name) != 20 {
			continue
		}
		base, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			closeSegments(segs)
			return nil, fmt.Errorf("open segment %s: %w", path, err)
		}
		st, err := f.Stat()
		if err != nil {
			_ = f.Close()
			closeSegments(segs)
			return nil, fmt.Errorf("stat segment %s: %w", path, err)
		}
		g := &segment{base: base, path: path, f: f}
		g.size.Store(st.Size())
		segs = append(segs, g)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].base < segs[j].base })
	return segs, nil
}

func closeSegments(segs []*segment) {
	for _, g := range segs {
		_ = g.f.Close()
	}
}

// createSegment creates an empty segment file starting at base.
func createSegment(dir string, base int64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	return &segment{base: base, path: path, f: f}, nil
}

// errBadFrame describes why scanning stopped at a frame.
type errBadFrame struct {
	off    int64
	reason string
}

func (e *errBadFrame) Error() string { return fmt.Sprintf("bad frame at %d: %s", e.off, e.reason) }

// scanned is what recovery needs of one record.
type scanned struct {
	off  int64
	size int32
	msg  *message.Message // Body aliases the scan buffer
}

// scan reads the frames of g from its offset from (a frame boundary) to
// the end of the file, checking each: a complete frame, its CRC, the magic
// code, a record that decodes and whose PHYSICALOFFSET is its own offset.
// It calls fn for each good frame and returns the offset after the last
// good one, with a *errBadFrame when it stopped before the end of the file
// (a torn or corrupt tail), or the I/O error that stopped it.
func (g *segment) scan(from int64, fn func(*scanned) error) (int64, error) {
	fileEnd := g.end()
	r := bufio.NewReaderSize(io.NewSectionReader(g.f, from-g.base, fileEnd-from), 1<<20)
	off := from
	var hdr [frameHeader + 4]byte
	var buf []byte
	for off < fileEnd {
		left := fileEnd - off
		if left < int64(len(hdr)) {
			return off, &errBadFrame{off, fmt.Sprintf("%d bytes left, too short for a frame", left)}
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return off, fmt.Errorf("read segment %s at %d: %w", g.path, off, err)
		}
		sum := binary.BigEndian.Uint32(hdr[:4])
		n := int64(int32(binary.BigEndian.Uint32(hdr[4:])))
		if n < minRecordSize || n > maxRecordSize {
			return off, &errBadFrame{off, fmt.Sprintf("record size %d out of range", n)}
		}
		if frameHeader+n > left {
			return off, &errBadFrame{off, fmt.Sprintf("record of %d bytes but only %d left (torn write)", n, left-frameHeader)}
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		copy(buf, hdr[4:])
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			return off, fmt.Errorf("read segment %s at %d: %w", g.path, off, err)
		}
		if crc32.Checksum(buf, castagnoli) != sum {
			return off, &errBadFrame{off, "CRC mismatch"}
		}
		if int32(binary.BigEndian.Uint32(buf[4:])) != message.MagicCode {
			return off, &errBadFrame{off, "bad magic code"}
		}
		m, _, err := message.DecodeRecord(buf)
		if err != nil {
			return off, &errBadFrame{off, err.Error()}
		}
		if m.CommitLogOffset != off {
			return off, &errBadFrame{off, fmt.Sprintf("record says it is at %d", m.CommitLogOffset)}
		}
		if err := fn(&scanned{off: off, size: int32(n), msg: m}); err != nil {
			return off, err
		}
		off += frameHeader + n
	}
	return off, nil
}

// readFrameAt reads and checks the frame at commit-log offset off of g and
// appends its record to dst. ok is false when off is not the offset of an
// intact frame.
func (g *segment) readFrameAt(dst []byte, off, limit int64) ([]byte, bool, error) {
	pos := off - g.base
	if pos < 0 || off+frameHeader+minRecordSize > limit {
		return dst, false, nil
	}
	var hdr [frameHeader + 8]byte
	if _, err := g.f.ReadAt(hdr[:], pos); err != nil {
		return dst, false, fmt.Errorf("read segment %s at %d: %w", g.path, off, err)
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[4:])))
	if n < minRecordSize || off+frameHeader+n > limit ||
		int32(binary.BigEndian.Uint32(hdr[8:])) != message.MagicCode {
		return dst, false, nil
	}
	start := len(dst)
	dst = grow(dst, int(n))
	rec := dst[start : start+int(n)]
	if _, err := g.f.ReadAt(rec, pos+frameHeader); err != nil {
		return dst[:start], false, fmt.Errorf("read segment %s at %d: %w", g.path, off, err)
	}
	if crc32.Checksum(rec, castagnoli) != binary.BigEndian.Uint32(hdr[:4]) ||
		int64(binary.BigEndian.Uint64(rec[28:])) != off {
		return dst[:start], false, nil
	}
	return dst, true, nil
}

// grow extends b by n bytes (contents of the new bytes unspecified).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// removeFile removes path, ignoring a file that is already gone.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// isSegmentName reports whether name is a segment or key file name.
func isSegmentName(name string) bool {
	name = strings.TrimSuffix(name, keysSuffix)
	if len(name) != 20 {
		return false
	}
	_, err := strconv.ParseInt(name, 10, 64)
	return err == nil
}

package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
)

// The key index answers QueryByKey (KEYS and UNIQ_KEY of a topic) with
// memory bounded by one segment: the active segment's keys are a slice of
// (hash, offset) pairs in memory; when a segment is sealed they are sorted
// and written next to it as <segment>.keys, which queries binary-search
// with a few reads. Hash collisions are resolved by reading the record.
// A .keys file goes away with its segment.

type keyEntry struct {
	hash uint64
	off  int64
}

// keyFileHeader is the header of a .keys file: what a query needs to know
// before searching it. ok is false when the segment has no key file yet.
type keyFileHeader struct {
	ok           bool
	count        int64
	minTS, maxTS int64 // store times of the segment's records (0, 0: none)
}

const (
	keyFileMagic   = uint32(0x4D514B49) // "MQKI"
	keyFileVersion = uint32(1)
	keyHeaderSize  = 4 + 4 + 8 + 8 + 8 + 4
	keyEntrySize   = 16
)

// keysOf returns the key hashes of a message: every KEYS entry and the
// UNIQ_KEY, as the in-memory store indexes them.
func keysOf(dst []uint64, topic, props string) []uint64 {
	if keys, ok := message.Property(props, message.PropertyKeys); ok {
		for _, k := range strings.Fields(keys) {
			dst = append(dst, keyHash(topic, k))
		}
	}
	if uniq, ok := message.Property(props, message.PropertyUniqueClientMsgIDKey); ok && uniq != "" {
		dst = append(dst, keyHash(topic, uniq))
	}
	return dst
}

// writeKeyFile sorts keys and writes them as path. It does not fsync: a
// key file a crash damaged fails readKeyFileHeader's checks and Open
// rebuilds it from its segment; record checks catch what those miss.
func writeKeyFile(path string, keys []keyEntry, minTS, maxTS int64) error {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].hash != keys[j].hash {
			return keys[i].hash < keys[j].hash
		}
		return keys[i].off < keys[j].off
	})
	b := make([]byte, keyHeaderSize+keyEntrySize*len(keys))
	binary.BigEndian.PutUint32(b[0:], keyFileMagic)
	binary.BigEndian.PutUint32(b[4:], keyFileVersion)
	binary.BigEndian.PutUint64(b[8:], uint64(len(keys)))
	binary.BigEndian.PutUint64(b[16:], uint64(minTS))
	binary.BigEndian.PutUint64(b[24:], uint64(maxTS))
	binary.BigEndian.PutUint32(b[32:], crc32.Checksum(b[:32], castagnoli))
	for i, k := range keys {
		at := keyHeaderSize + keyEntrySize*i
		binary.BigEndian.PutUint64(b[at:], k.hash)
		binary.BigEndian.PutUint64(b[at+8:], uint64(k.off))
	}
	return writeFile(path, b, false)
}

// readKeyFileHeader reads the header of a .keys file; ok is false when
// the file is missing or damaged (it is then rebuilt).
func readKeyFileHeader(path string) (keyFileHeader, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return keyFileHeader{}, nil
	}
	if err != nil {
		return keyFileHeader{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	var b [keyHeaderSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return keyFileHeader{}, nil
	}
	if binary.BigEndian.Uint32(b[0:]) != keyFileMagic || binary.BigEndian.Uint32(b[4:]) != keyFileVersion ||
		binary.BigEndian.Uint32(b[32:]) != crc32.Checksum(b[:32], castagnoli) {
		return keyFileHeader{}, nil
	}
	h := keyFileHeader{
		ok:    true,
		count: int64(binary.BigEndian.Uint64(b[8:])),
		minTS: int64(binary.BigEndian.Uint64(b[16:])),
		maxTS: int64(binary.BigEndian.Uint64(b[24:])),
	}
	st, err := f.Stat()
	if err != nil || st.Size() != keyHeaderSize+keyEntrySize*h.count {
		return keyFileHeader{}, nil
	}
	return h, nil
}

// searchKeyFile returns the commit-log offsets stored under hash in a
// .keys file with count entries, ascending.
func searchKeyFile(path string, count int64, hash uint64) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	var b [keyEntrySize]byte
	var rerr error
	at := func(i int64) keyEntry {
		if _, err := f.ReadAt(b[:], keyHeaderSize+keyEntrySize*i); err != nil && rerr == nil {
			rerr = fmt.Errorf("read %s: %w", path, err)
		}
		return keyEntry{binary.BigEndian.Uint64(b[:]), int64(binary.BigEndian.Uint64(b[8:]))}
	}
	lo, hi := int64(0), count
	for lo < hi {
		mid := lo + (hi-lo)/2
		if at(mid).hash < hash {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var offs []int64
	for i := lo; i < count && rerr == nil; i++ {
		k := at(i)
		if k.hash != hash {
			break
		}
		offs = append(offs, k.off)
	}
	return offs, rerr
}

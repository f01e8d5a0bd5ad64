package message

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"unicode/utf16"
)

// OffsetMsgID returns the broker-side message id: upper-case hex of the
// store host's IP (4 or 16 bytes), its port (int32) and the commit-log
// offset (int64), 32 or 56 characters (MessageDecoder.createMessageId).
func OffsetMsgID(storeHost netip.AddrPort, commitLogOffset int64) string {
	var buf [28]byte
	n := 0
	if !storeHost.Addr().IsValid() {
		n = 4
	} else if isV6(storeHost) {
		b := storeHost.Addr().As16()
		n += copy(buf[:], b[:])
	} else {
		b := storeHost.Addr().Unmap().As4()
		n += copy(buf[:], b[:])
	}
	binary.BigEndian.PutUint32(buf[n:], uint32(storeHost.Port()))
	n += 4
	binary.BigEndian.PutUint64(buf[n:], uint64(commitLogOffset))
	n += 8
	var out [56]byte
	const upper = "0123456789ABCDEF"
	for i, b := range buf[:n] {
		out[2*i] = upper[b>>4]
		out[2*i+1] = upper[b&0xF]
	}
	return string(out[:2*n])
}

// ParseOffsetMsgID decodes an id made by OffsetMsgID.
func ParseOffsetMsgID(id string) (netip.AddrPort, int64, error) {
	var raw [28]byte
	switch len(id) {
	case 32, 56:
	default:
		return netip.AddrPort{}, 0, fmt.Errorf("message id %q: want 32 or 56 hex characters", id)
	}
	n, err := hex.Decode(raw[:], []byte(id))
	if err != nil {
		return netip.AddrPort{}, 0, fmt.Errorf("message id %q: %w", id, err)
	}
	var addr netip.Addr
	at := 4
	if n == 16 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16([16]byte(raw[:16]))
		at = 16
	}
	port := binary.BigEndian.Uint32(raw[at:])
	off := int64(binary.BigEndian.Uint64(raw[at+4:]))
	return netip.AddrPortFrom(addr, uint16(port)), off, nil
}

// TagsHashCode is the consume-queue code of a tag: Java's String.hashCode
// over the UTF-16 code units, widened to int64 (MessageExtBrokerInner
// .tagsString2tagsCode). For ASCII tags it equals the Go client's codes.
func TagsHashCode(tag string) int64 { return int64(JavaStringHash(tag)) }

// JavaStringHash is Java's String.hashCode of s: over its UTF-16 code units,
// as the Java broker, proxy and clients hash names, tags and sharding keys.
func JavaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + r1
			h = 31*h + r2
			continue
		}
		h = 31*h + r
	}
	return h
}

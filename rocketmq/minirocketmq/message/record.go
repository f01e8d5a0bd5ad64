// Package message holds the byte formats of RocketMQ 4.x messages: the
// stored record that PULL_MESSAGE, VIEW_MESSAGE_BY_ID and the broker's
// server→client requests carry (MessageDecoder / CommitLog in the Java
// broker, primitive.DecodeMessage in the Go client), the batch body of
// SEND_BATCH_MESSAGE, the properties string, message ids and tag hash codes.
//
// Nothing here knows about topics, queues or connections: a store encodes
// records with AppendRecord and hands them out unchanged, so the same bytes
// can live in memory or in a commit-log file.
package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// MagicCode is the v1 record magic (CommitLog.MESSAGE_MAGIC_CODE); the
// clients ignore it, a durable store can use it to find record boundaries.
const MagicCode int32 = -626843481

const magicU32 = uint32(0xDAA320A7) // MagicCode's bits

// System flag bits (MessageSysFlag).
const (
	FlagCompressed          int32 = 0x1
	FlagMultiTags           int32 = 0x2
	TransactionNotType      int32 = 0x0
	TransactionPreparedType int32 = 0x4
	TransactionCommitType   int32 = 0x8
	TransactionRollbackType int32 = 0xC
	FlagBornHostV6          int32 = 0x10
	FlagStoreHostV6         int32 = 0x20
)

// TransactionValue returns the transaction-type bits of a system flag.
func TransactionValue(sysFlag int32) int32 { return sysFlag & TransactionRollbackType }

// Message is one message as stored: what the broker knows when it appends
// it, plus the three fields the store assigns (QueueOffset, CommitLogOffset,
// StoreTimestamp).
type Message struct {
	Topic                     string
	QueueID                   int32
	Flag                      int32
	SysFlag                   int32 // host-v6 bits are derived from the addresses
	BornTimestamp             int64
	BornHost                  netip.AddrPort
	StoreHost                 netip.AddrPort
	ReconsumeTimes            int32
	PreparedTransactionOffset int64
	Body                      []byte // as sent: still compressed when SysFlag&FlagCompressed
	Properties                string // encoded, see AppendProperty
	BodyCRC                   int32  // BodyCRC(Body); computed by AppendRecord when zero

	// TagsCode is the consume-queue tag code: TagsHashCode of the TAGS
	// property, 0 without tags. Filters compare it before looking at the
	// record.
	TagsCode int64

	// Assigned by the store.
	QueueOffset     int64
	CommitLogOffset int64
	StoreTimestamp  int64
}

// Byte offsets of the fixed-position fields of a record.
const (
	offTotalSize      = 0
	offMagic          = 4
	offBodyCRC        = 8
	offQueueID        = 12
	offFlag           = 16
	offQueueOffset    = 20
	offPhysicalOffset = 28
	offSysFlag        = 36
	offBornTimestamp  = 40
	offBornHost       = 48
)

func hostLen(a netip.AddrPort) int {
	if isV6(a) {
		return 20
	}
	return 8
}

func isV6(a netip.AddrPort) bool { return a.Addr().Is6() && !a.Addr().Is4In6() }

// SysFlagFor returns m.SysFlag with the born/store host v6 bits set from
// the addresses.
func SysFlagFor(m *Message) int32 {
	f := m.SysFlag &^ (FlagBornHostV6 | FlagStoreHostV6)
	if isV6(m.BornHost) {
		f |= FlagBornHostV6
	}
	if isV6(m.StoreHost) {
		f |= FlagStoreHostV6
	}
	return f
}

// RecordSize returns the encoded size of m (CommitLog.calMsgLength).
func RecordSize(m *Message) int {
	return 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + hostLen(m.BornHost) + 8 + hostLen(m.StoreHost) +
		4 + 8 + 4 + len(m.Body) + 1 + len(m.Topic) + 2 + len(m.Properties)
}

// ErrRecordTooLarge is returned by Validate for topics over 127 bytes or
// properties over 32767 bytes, which the record format cannot hold.
var ErrRecordTooLarge = errors.New("message: topic or properties too long for the record format")

// Validate checks the limits of the record format.
func Validate(m *Message) error {
	if len(m.Topic) > 127 || len(m.Properties) > 32767 {
		return ErrRecordTooLarge
	}
	return nil
}

// BodyCRC is CRC32 (IEEE) of body masked to 31 bits, as UtilAll.crc32.
func BodyCRC(body []byte) int32 { return int32(crc32.ChecksumIEEE(body) & 0x7FFFFFFF) }

// AppendRecord appends the stored-record encoding of m to dst. m must pass
// Validate.
func AppendRecord(dst []byte, m *Message) []byte {
	size := RecordSize(m)
	crc := m.BodyCRC
	if crc == 0 && len(m.Body) > 0 {
		crc = BodyCRC(m.Body)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst = binary.BigEndian.AppendUint32(dst, magicU32)
	dst = binary.BigEndian.AppendUint32(dst, uint32(crc))
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.QueueID))
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.Flag))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.QueueOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.CommitLogOffset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(SysFlagFor(m)))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.BornTimestamp))
	dst = appendHost(dst, m.BornHost)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.StoreTimestamp))
	dst = appendHost(dst, m.StoreHost)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.ReconsumeTimes))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.PreparedTransactionOffset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Body)))
	dst = append(dst, m.Body...)
	dst = append(dst, byte(len(m.Topic)))
	dst = append(dst, m.Topic...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(m.Properties)))
	dst = append(dst, m.Properties...)
	return dst
}

func appendHost(dst []byte, a netip.AddrPort) []byte {
	if !a.Addr().IsValid() {
		return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	if isV6(a) {
		b := a.Addr().As16()
		dst = append(dst, b[:]...)
	} else {
		b := a.Addr().Unmap().As4()
		dst = append(dst, b[:]...)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(a.Port()))
}

// ErrMalformedRecord is wrapped by DecodeRecord errors.
var ErrMalformedRecord = errors.New("message: malformed record")

// RecordLen returns the TOTALSIZE of the record at the start of b, checked
// against len(b).
func RecordLen(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("%w: %d bytes", ErrMalformedRecord, len(b))
	}
	n := int(int32(binary.BigEndian.Uint32(b)))
	if n < 4 || n > len(b) {
		return 0, fmt.Errorf("%w: total size %d with %d bytes available", ErrMalformedRecord, n, len(b))
	}
	return n, nil
}

// DecodeRecord decodes the record at the start of b and returns it with its
// length. Body aliases b.
func DecodeRecord(b []byte) (*Message, int, error) {
	n, err := RecordLen(b)
	if err != nil {
		return nil, 0, err
	}
	r := reader{b: b[:n], i: 4}
	m := &Message{}
	r.i32() // magic
	m.BodyCRC = r.i32()
	m.QueueID = r.i32()
	m.Flag = r.i32()
	m.QueueOffset = r.i64()
	m.CommitLogOffset = r.i64()
	m.SysFlag = r.i32()
	m.BornTimestamp = r.i64()
	m.BornHost = r.host(m.SysFlag&FlagBornHostV6 != 0)
	m.StoreTimestamp = r.i64()
	m.StoreHost = r.host(m.SysFlag&FlagStoreHostV6 != 0)
	m.ReconsumeTimes = r.i32()
	m.PreparedTransactionOffset = r.i64()
	m.Body = r.bytes(int(r.i32()))
	m.Topic = string(r.bytes(int(r.u8())))
	m.Properties = string(r.bytes(int(r.u16())))
	if r.err || r.i != n {
		return nil, 0, fmt.Errorf("%w: fields do not add up to the total size %d", ErrMalformedRecord, n)
	}
	if len(m.Body) == 0 {
		m.Body = nil
	}
	if tags, ok := Property(m.Properties, PropertyTags); ok {
		m.TagsCode = TagsHashCode(tags)
	}
	return m, n, nil
}

// RecordStoreTimestamp reads STORETIMESTAMP of an encoded record without
// decoding it.
func RecordStoreTimestamp(rec []byte) int64 {
	sys := int32(binary.BigEndian.Uint32(rec[offSysFlag:]))
	at := offBornHost + 8
	if sys&FlagBornHostV6 != 0 {
		at = offBornHost + 20
	}
	return int64(binary.BigEndian.Uint64(rec[at:]))
}

// RecordProperties returns the properties string of an encoded record
// without decoding the rest (for filters). ok is false for a malformed
// record.
func RecordProperties(rec []byte) (props []byte, ok bool) {
	if len(rec) < offBornHost+8 {
		return nil, false
	}
	sys := int32(binary.BigEndian.Uint32(rec[offSysFlag:]))
	at := offBornHost + 8
	if sys&FlagBornHostV6 != 0 {
		at = offBornHost + 20
	}
	at += 8 // store timestamp
	if sys&FlagStoreHostV6 != 0 {
		at += 20
	} else {
		at += 8
	}
	at += 4 + 8 // reconsume times, prepared tx offset
	if len(rec) < at+4 {
		return nil, false
	}
	bodyLen := int(int32(binary.BigEndian.Uint32(rec[at:])))
	at += 4
	if bodyLen < 0 || len(rec) < at+bodyLen+1 {
		return nil, false
	}
	at += bodyLen
	at += 1 + int(rec[at])
	if len(rec) < at+2 {
		return nil, false
	}
	pl := int(binary.BigEndian.Uint16(rec[at:]))
	at += 2
	if len(rec) < at+pl {
		return nil, false
	}
	return rec[at : at+pl], true
}

type reader struct {
	b   []byte
	i   int
	err bool
}

func (r *reader) take(n int) []byte {
	if r.err || n < 0 || len(r.b)-r.i < n {
		r.err = true
		return nil
	}
	s := r.b[r.i : r.i+n]
	r.i += n
	return s
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) i32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) i64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *reader) bytes(n int) []byte { return r.take(n) }

func (r *reader) host(v6 bool) netip.AddrPort {
	if v6 {
		b := r.take(16)
		port := r.i32()
		if b == nil {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b)), uint16(port))
	}
	b := r.take(4)
	port := r.i32()
	if b == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b)), uint16(port))
}

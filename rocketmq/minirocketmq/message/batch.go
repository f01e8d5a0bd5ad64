package message

import (
	"encoding/binary"
	"fmt"
)

// BatchEntry is one message of a SEND_BATCH_MESSAGE body. Body aliases the
// batch body.
type BatchEntry struct {
	Flag       int32
	Body       []byte
	Properties string
}

// batchFixed is TOTALSIZE, MAGICCODE, BODYCRC, FLAG and BODYLEN.
const batchFixed = 5 * 4

// DecodeBatch splits a batch body (MessageDecoder.encodeMessages: per message
// TOTALSIZE | MAGICCODE | BODYCRC | FLAG | BODYLEN | BODY | PROPLEN int16 |
// PROPERTIES) into its messages. Every length is checked against the bytes
// that are left; a body that does not split exactly is an error.
func DecodeBatch(body []byte) ([]BatchEntry, error) {
	var out []BatchEntry
	for at := 0; at < len(body); {
		rest := body[at:]
		if len(rest) < batchFixed+2 {
			return nil, fmt.Errorf("%w: batch entry %d truncated at byte %d", ErrMalformedRecord, len(out), at)
		}
		total := int(int32(binary.BigEndian.Uint32(rest)))
		flag := int32(binary.BigEndian.Uint32(rest[12:]))
		bodyLen := int(int32(binary.BigEndian.Uint32(rest[16:])))
		if bodyLen < 0 || bodyLen > len(rest)-batchFixed-2 {
			return nil, fmt.Errorf("%w: batch entry %d body length %d exceeds the %d bytes left", ErrMalformedRecord, len(out), bodyLen, len(rest)-batchFixed)
		}
		p := batchFixed + bodyLen
		propLen := int(int16(binary.BigEndian.Uint16(rest[p:])))
		p += 2
		if propLen < 0 || propLen > len(rest)-p {
			return nil, fmt.Errorf("%w: batch entry %d properties length %d exceeds the %d bytes left", ErrMalformedRecord, len(out), propLen, len(rest)-p)
		}
		if total != p+propLen {
			return nil, fmt.Errorf("%w: batch entry %d total size %d, fields add up to %d", ErrMalformedRecord, len(out), total, p+propLen)
		}
		e := BatchEntry{Flag: flag, Properties: string(rest[p : p+propLen])}
		if bodyLen > 0 {
			e.Body = rest[batchFixed : batchFixed+bodyLen : batchFixed+bodyLen]
		}
		out = append(out, e)
		at += total
	}
	return out, nil
}

// AppendBatchEntry appends one message in the batch encoding (what the
// clients' Message.Marshal produces, with zero magic and CRC).
func AppendBatchEntry(dst []byte, flag int32, body []byte, props string) []byte {
	total := batchFixed + len(body) + 2 + len(props)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(flag))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	dst = append(dst, body...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(props)))
	return append(dst, props...)
}

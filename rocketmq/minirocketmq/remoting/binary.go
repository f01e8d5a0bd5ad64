package remoting

import (
	"encoding/binary"
	"errors"
)

// The ROCKETMQ binary header (RocketMQSerializable):
//
//	code int16 | language byte | version int16 | opaque int32 | flag int32 |
//	remarkLen int32 | remark | extLen int32 | (keyLen int16 | key | valLen int32 | val)*
const binaryFixedLen = 2 + 1 + 2 + 4 + 4 + 4

var errBinaryHeader = errors.New("truncated or inconsistent binary header")

func decodeBinaryHeader(h []byte, cmd *Command) error {
	if len(h) < binaryFixedLen {
		return errBinaryHeader
	}
	cmd.Code = int16(binary.BigEndian.Uint16(h[0:]))
	cmd.Language = LanguageName(h[2])
	cmd.Version = int16(binary.BigEndian.Uint16(h[3:]))
	cmd.Opaque = int32(binary.BigEndian.Uint32(h[5:]))
	cmd.Flag = int32(binary.BigEndian.Uint32(h[9:]))
	remarkLen := int64(int32(binary.BigEndian.Uint32(h[13:])))
	rest := h[binaryFixedLen:]
	if remarkLen < 0 || remarkLen > int64(len(rest)) {
		return errBinaryHeader
	}
	cmd.Remark = string(rest[:remarkLen])
	rest = rest[remarkLen:]
	if len(rest) < 4 {
		return errBinaryHeader
	}
	extLen := int64(int32(binary.BigEndian.Uint32(rest)))
	rest = rest[4:]
	if extLen < 0 || extLen > int64(len(rest)) {
		return errBinaryHeader
	}
	ext := string(rest[:extLen]) // one copy; keys and values are substrings
	for len(ext) > 0 {
		if len(ext) < 2 {
			return errBinaryHeader
		}
		kl := int(binary.BigEndian.Uint16([]byte(ext[:2])))
		ext = ext[2:]
		if kl > len(ext) {
			return errBinaryHeader
		}
		k := ext[:kl]
		ext = ext[kl:]
		if len(ext) < 4 {
			return errBinaryHeader
		}
		vl := int64(int32(binary.BigEndian.Uint32([]byte(ext[:4]))))
		ext = ext[4:]
		if vl < 0 || vl > int64(len(ext)) {
			return errBinaryHeader
		}
		cmd.Ext = append(cmd.Ext, Field{k, ext[:vl]})
		ext = ext[vl:]
	}
	return nil
}

func appendBinaryHeader(dst []byte, cmd *Command) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(cmd.Code))
	dst = append(dst, languageCode(cmd.Language))
	dst = binary.BigEndian.AppendUint16(dst, uint16(cmd.Version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(cmd.Opaque))
	dst = binary.BigEndian.AppendUint32(dst, uint32(cmd.Flag))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(cmd.Remark)))
	dst = append(dst, cmd.Remark...)
	extLenAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for _, f := range cmd.Ext {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(f.Key)))
		dst = append(dst, f.Key...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f.Value)))
		dst = append(dst, f.Value...)
	}
	binary.BigEndian.PutUint32(dst[extLenAt:], uint32(len(dst)-extLenAt-4))
	return dst
}

func languageCode(name string) byte {
	for i := byte(0); i < 13; i++ {
		if LanguageName(i) == name {
			return i
		}
	}
	return 0
}

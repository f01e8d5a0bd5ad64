package remoting

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrameSize is the largest frame accepted by default: the Java
// server's com.rocketmq.remoting.frameMaxLength (16 MiB).
const DefaultMaxFrameSize = 16 << 20

// maxHeaderLen is the largest header the 24-bit length field can describe.
const maxHeaderLen = 1<<24 - 1

// ErrFrameTooLarge is returned by ReadFrame for a frame whose declared length
// exceeds the limit; nothing has been allocated for it.
var ErrFrameTooLarge = errors.New("remoting: frame exceeds the size limit")

// ErrMalformedFrame is wrapped by every decoding error.
var ErrMalformedFrame = errors.New("remoting: malformed frame")

// ReadFrame reads one frame from r and returns its payload: everything after
// the 4-byte length, i.e. the header-length word, the header and the body.
// The declared length is checked against maxSize (DefaultMaxFrameSize when
// zero or less) before anything is allocated, and the buffer grows with the
// bytes received rather than being sized from the declared length.
func ReadFrame(r io.Reader, maxSize int) ([]byte, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	n := int64(binary.BigEndian.Uint32(lenBuf[:]))
	if maxSize <= 0 {
		maxSize = DefaultMaxFrameSize
	}
	if n > int64(maxSize) {
		return nil, fmt.Errorf("%w: declared %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	if n < 4 {
		return nil, fmt.Errorf("%w: declared length %d is shorter than the header-length word", ErrMalformedFrame, n)
	}
	return readPayload(r, int(n))
}

// initialFrameBuffer is what ReadFrame allocates for a frame before any of
// its bytes arrived; larger frames grow the buffer as their bytes come in.
const initialFrameBuffer = 64 << 10

// readPayload reads n bytes. The buffer starts at initialFrameBuffer and
// doubles only while bytes keep arriving, so a peer that announces 16 MiB
// and sends nothing costs 64 KiB, not 16 MiB (and at most twice what it
// actually sent).
func readPayload(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, min(n, initialFrameBuffer))
	got := 0
	for {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if got == n {
			return buf, nil
		}
		grown := make([]byte, min(n, 2*len(buf)))
		copy(grown, buf[:got])
		buf = grown
	}
}

// Decode decodes a frame payload as returned by ReadFrame. The command's
// Body aliases payload.
func Decode(payload []byte) (*Command, error) {
	if len(payload) < 4 {
		return nil, fmt.Errorf("%w: %d bytes, need at least 4", ErrMalformedFrame, len(payload))
	}
	word := binary.BigEndian.Uint32(payload)
	serType := byte(word >> 24)
	hl := int(word & 0xFFFFFF)
	if hl > len(payload)-4 {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes left", ErrMalformedFrame, hl, len(payload)-4)
	}
	header := payload[4 : 4+hl]
	cmd := &Command{SerializeType: serType}
	var err error
	switch serType {
	case SerializeJSON:
		err = decodeJSONHeader(string(header), cmd)
	case SerializeRocketMQ:
		err = decodeBinaryHeader(header, cmd)
	default:
		err = fmt.Errorf("unknown serialize type %d", serType)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedFrame, err)
	}
	if body := payload[4+hl:]; len(body) > 0 {
		cmd.Body = body[:len(body):len(body)]
	}
	return cmd, nil
}

// AppendFrame appends the whole frame of cmd (length, header-length word,
// JSON header, body) to dst.
func AppendFrame(dst []byte, cmd *Command) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = appendJSONHeader(dst, cmd)
	hl := len(dst) - start - 8
	if hl > maxHeaderLen {
		return dst[:start], fmt.Errorf("remoting: header of %d bytes exceeds the 24-bit length field", hl)
	}
	dst = append(dst, cmd.Body...)
	total := len(dst) - start - 4
	if int64(total) > 1<<31-1 {
		return dst[:start], fmt.Errorf("remoting: frame of %d bytes is too large", total)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(total))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(hl)|uint32(SerializeJSON)<<24)
	return dst, nil
}

// AppendBinaryFrame is AppendFrame with the ROCKETMQ binary header, the
// encoding Java clients use with -Drocketmq.serialize.type=ROCKETMQ. The
// broker never writes it; tests use it to exercise the decoder.
func AppendBinaryFrame(dst []byte, cmd *Command) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = appendBinaryHeader(dst, cmd)
	hl := len(dst) - start - 8
	if hl > maxHeaderLen {
		return dst[:start], fmt.Errorf("remoting: header of %d bytes exceeds the 24-bit length field", hl)
	}
	dst = append(dst, cmd.Body...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(hl)|uint32(SerializeRocketMQ)<<24)
	return dst, nil
}

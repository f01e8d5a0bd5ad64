package pop

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Handle is a decoded receipt handle. Its text form has the field layout of
// the real broker's (ReceiptHandle.encode, space-separated): start offset,
// pop time (ms), invisible time (ms), revive queue id (999 for FIFO, as
// POP_ORDER_REVIVE_QUEUE), topic type ("0": the message's own topic),
// broker name, queue id, queue offset, commit-log offset; then one field of
// ours, the delivery sequence number, which tells this delivery from any
// earlier or later one of the same message. Tools that decode the real
// format (it accepts extra fields) read ours.
type Handle struct {
	PopTime         time.Time
	Invisible       time.Duration
	FIFO            bool
	BrokerName      string
	QueueID         int32
	Offset          int64
	CommitLogOffset int64
	Seq             uint64
}

// fifoReviveQueue is POP_ORDER_REVIVE_QUEUE.
const fifoReviveQueue = 999

// String encodes h.
func (h Handle) String() string {
	revive := 0
	if h.FIFO {
		revive = fifoReviveQueue
	}
	var b strings.Builder
	b.Grow(96)
	for i, f := range []string{
		strconv.FormatInt(h.Offset, 10),
		strconv.FormatInt(h.PopTime.UnixMilli(), 10),
		strconv.FormatInt(h.Invisible.Milliseconds(), 10),
		strconv.Itoa(revive),
		"0",
		h.BrokerName,
		strconv.FormatInt(int64(h.QueueID), 10),
		strconv.FormatInt(h.Offset, 10),
		strconv.FormatInt(h.CommitLogOffset, 10),
		strconv.FormatUint(h.Seq, 10),
	} {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// ErrInvalidHandle is returned (wrapped) for a receipt handle this engine
// did not make: wrong number of fields, numbers that do not parse, a topic
// type other than "0".
var ErrInvalidHandle = errors.New("pop: invalid receipt handle")

// ParseHandle decodes a handle made by Handle.String.
func ParseHandle(s string) (Handle, error) {
	f := strings.Split(s, " ")
	if len(f) != 10 {
		return Handle{}, fmt.Errorf("%w: %d fields, want 10", ErrInvalidHandle, len(f))
	}
	var (
		h    Handle
		errs []error
	)
	num := func(i int) int64 {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	h.PopTime = time.UnixMilli(num(1))
	h.Invisible = time.Duration(num(2)) * time.Millisecond
	h.FIFO = num(3) == fifoReviveQueue
	if f[4] != "0" {
		errs = append(errs, fmt.Errorf("topic type %q", f[4]))
	}
	h.BrokerName = f[5]
	q := num(6)
	if q < 0 || q > 1<<20 {
		errs = append(errs, fmt.Errorf("queue id %d", q))
	}
	h.QueueID = int32(q)
	h.Offset = num(7)
	if num(0) != h.Offset {
		errs = append(errs, errors.New("start offset and offset differ"))
	}
	h.CommitLogOffset = num(8)
	seq, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		errs = append(errs, err)
	}
	h.Seq = seq
	if len(errs) > 0 {
		return Handle{}, fmt.Errorf("%w: %w", ErrInvalidHandle, errors.Join(errs...))
	}
	return h, nil
}

package minirocketmq

import (
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// header reads the ext fields of a request, remembering the first missing
// required field or malformed value, so a handler reads all it needs and
// checks once (the Java broker's decodeCommandCustomHeader).
type header struct {
	cmd     *remoting.Command
	problem string
}

func newHeader(cmd *remoting.Command) *header { return &header{cmd: cmd} }

func (h *header) missing(key string) {
	if h.problem == "" {
		h.problem = remarkf(msgMissingField, key)
	}
}

func (h *header) str(key string, required bool) string {
	v, ok := h.cmd.Lookup(key)
	if required && (!ok || v == "") {
		h.missing(key)
	}
	return v
}

func (h *header) int64(key string, required bool) int64 {
	v, ok := h.cmd.Lookup(key)
	if !ok || v == "" || v == "null" {
		if required {
			h.missing(key)
		}
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && h.problem == "" {
		h.problem = remarkf(msgBadField, key, v)
	}
	return n
}

func (h *header) int32(key string, required bool) int32 {
	v, ok := h.cmd.Lookup(key)
	if !ok || v == "" || v == "null" {
		if required {
			h.missing(key)
		}
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil && h.problem == "" {
		h.problem = remarkf(msgBadField, key, v)
	}
	return int32(n)
}

// optInt32 is int32 for an optional field, with def when it is absent.
func (h *header) optInt32(key string, def int32) int32 {
	if v, ok := h.cmd.Lookup(key); !ok || v == "" || v == "null" {
		return def
	}
	return h.int32(key, false)
}

func (h *header) bool(key string) bool { return h.cmd.Bool(key) }

// errResponse returns the SYSTEM_ERROR response for the first problem, or
// nil when every field was fine.
func (h *header) errResponse() *remoting.Command {
	if h.problem == "" {
		return nil
	}
	return remoting.NewResponse(h.cmd, remoting.SystemError, h.problem)
}

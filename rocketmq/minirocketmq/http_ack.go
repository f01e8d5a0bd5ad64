package minirocketmq

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
)

// Ack, commit, rollback: DELETE /topics/<topic>/messages?consumer=<group>
// &ns=<instance>[&trans=commit|rollback] with <ReceiptHandles> (1..16
// handles); 204 when every handle was done, else 404 with <Errors>, one
// <Error> (ErrorCode, ErrorMessage, ReceiptHandle) per failed handle (the
// others were done).
//
//   - Ack: the pop engine's handle of a delivery to this group of this
//     topic. A delivery that is over (its invisible time passed, or it was
//     acked or dead-lettered) → ReceiptHandleError "The receipt handle you
//     provide is expired."; a handle that is not one of ours →
//     ReceiptHandleError "... is not valid.".
//   - Commit / rollback (a transactional producer; consumer may be empty,
//     as the SDK sends it without an instance id): the handle of a half
//     message, from its publish or a trans=pop consume. Commit stores the
//     message in its queue (a __STARTDELIVERTIME is honoured from then on),
//     rollback drops it; a transaction that is not pending (resolved,
//     discarded, another topic's) → ReceiptHandleError.
//
// A body that is not <ReceiptHandles> → MalformedXML; no handle →
// MissingReceiptHandle; more than 16 or trans other than commit/rollback
// → InvalidArgument.

// ack serves DELETE.
func (s *httpServer) ack(c *httpCall) {
	raw, ok := c.readBody(maxHTTPAckBody)
	if !ok {
		return
	}
	var req httpReceiptHandles
	if !c.decodeXML(raw, &req) {
		return
	}
	switch {
	case len(req.Handles) == 0:
		c.fail(errHTTPMissingReceipt, msgHTTPMissingReceipt)
		return
	case len(req.Handles) > httpMaxBatch:
		c.fail(errHTTPInvalidArgument, fmt.Sprintf("The count of ReceiptHandle should between 1 and %d.", httpMaxBatch))
		return
	}
	var do func(handle string) (httpErrorCode, string)
	switch c.trans {
	case "":
		do = func(h string) (httpErrorCode, string) { return s.ackOne(c, h) }
	case httpTransCommit, httpTransRollback:
		commit := c.trans == httpTransCommit
		do = func(h string) (httpErrorCode, string) { return s.endTransaction(c, h, commit) }
	default:
		c.fail(errHTTPInvalidArgument, fmt.Sprintf("The value of trans %s is invalid: commit or rollback.", quoteShort(c.trans)))
		return
	}
	var failed []httpAckError
	for _, h := range req.Handles {
		if code, msg := do(h); code.code != "" {
			failed = append(failed, httpAckError{ErrorCode: code.code, ErrorMessage: msg, ReceiptHandle: h})
		}
	}
	if len(failed) < len(req.Handles) {
		if err := s.b.waitDurable(c.r.Context()); err != nil {
			s.b.log.Logf(LogLevelError, "HTTP %s on %s: flush: %v", c.r.Method, c.topic, err)
			c.fail(errHTTPInternal, msgHTTPInternal)
			return
		}
	}
	if len(failed) == 0 {
		c.reply(http.StatusNoContent, nil)
		return
	}
	c.reply(http.StatusNotFound, &httpAckErrors{XMLNS: httpNamespace, Errors: failed})
}

// ackOne acknowledges one delivery.
func (s *httpServer) ackOne(c *httpCall, handle string) (httpErrorCode, string) {
	err := s.b.v5.pop.Ack(c.group, c.topic, handle)
	switch {
	case err == nil:
		return httpErrorCode{}, ""
	case errors.Is(err, pop.ErrHandleExpired):
		return errHTTPReceiptHandle, msgHTTPReceiptExpired
	case errors.Is(err, pop.ErrInvalidHandle):
		return errHTTPReceiptHandle, msgHTTPReceiptHandle
	case errors.Is(err, pop.ErrClosed):
		return errHTTPInternal, "The broker is shutting down."
	}
	s.b.log.Logf(LogLevelError, "HTTP ack on %s by %s: %v", c.topic, c.group, err)
	return errHTTPInternal, msgHTTPInternal
}

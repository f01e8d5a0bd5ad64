package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// VIEW_MESSAGE_BY_ID (33): one stored message by commit-log offset, the
// offset decoded by the client from an offset message id (mqadmin
// queryMsgById, the Java client's viewMessage). Honoured: offset. Body = the
// stored record; nothing there → SYSTEM_ERROR with the real remark.

// handleViewMessageByID serves code 33.
func (b *Broker) handleViewMessageByID(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	off := h.int64("offset", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	rec, err := b.store.Lookup(nil, off)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgViewByOffsetFailed, off)), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Body = rec
	return resp, nil
}

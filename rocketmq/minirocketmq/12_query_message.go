package minirocketmq

import (
	"math"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// QUERY_MESSAGE (12): messages of a topic by key (mqadmin queryMsgByKey, the
// Java client's queryMessage), or by client message id when the ext field
// _UNIQUE_KEY_QUERY is "true" (the UNIQ_KEY property is indexed too, as the
// real broker's index service does).
//
// Honoured: topic, key, maxNum (32 for unique-key queries, like
// defaultQueryMaxNum; at most MaxQueryMessages, 64, like the real store's
// maxMsgsNumBatch), beginTimestamp, endTimestamp (store time, inclusive).
// Matches are exact (the real index is a hash table and may return
// collisions for the client to drop). Newest first. The body is the
// matching stored records; none → QUERY_NOT_FOUND with the real remark.
// indexLastUpdateTimestamp/indexLastUpdatePhyoffset are reported as 0.
// The Go client never sends this code.

const defaultQueryMaxNum = 32

// handleQueryMessage serves code 12.
func (b *Broker) handleQueryMessage(c *conn, req *remoting.Command) (*remoting.Command, error) {
	h := newHeader(req)
	topic := h.str("topic", true)
	key := h.str("key", true)
	maxNum := int(h.int32("maxNum", true))
	begin := h.int64("beginTimestamp", true)
	end := h.int64("endTimestamp", true)
	if resp := h.errResponse(); resp != nil {
		return resp, nil
	}
	if req.Bool("_UNIQUE_KEY_QUERY") {
		maxNum = defaultQueryMaxNum
	}
	maxNum = min(maxNum, MaxQueryMessages)
	if end == 0 {
		end = math.MaxInt64
	}
	body, n, err := b.store.QueryByKey(nil, topic, key, maxNum, begin, end)
	if err != nil {
		return remoting.NewResponse(req, remoting.SystemError, err.Error()), nil
	}
	if n == 0 {
		return remoting.NewResponse(req, remoting.QueryNotFound, msgQueryNotFound), nil
	}
	resp := remoting.NewResponse(req, remoting.Success, "")
	resp.Set("indexLastUpdateTimestamp", "0")
	resp.Set("indexLastUpdatePhyoffset", "0")
	resp.Body = body
	return resp, nil
}

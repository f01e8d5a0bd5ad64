package minirocketmq

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// handlerFunc serves one request code. It returns the response, or nil when
// it answers later itself (a held pull) or never (oneway). A non-nil error
// means the connection is unusable and is closed; protocol failures are
// responses with an error code, never errors.
type handlerFunc func(c *conn, req *remoting.Command) (*remoting.Command, error)

// nameServerHandlers is the dispatch table of the name server listener.
func (b *Broker) nameServerHandlers() map[int16]handlerFunc {
	return map[int16]handlerFunc{
		remoting.GetRouteInfoByTopic:           b.handleGetRouteInfoByTopic,
		remoting.GetBrokerClusterInfo:          b.handleGetBrokerClusterInfo,
		remoting.GetAllTopicListFromNameServer: b.handleGetAllTopicListFromNameServer,
		remoting.DeleteTopicInNameSrv:          b.handleDeleteTopicInNameSrv,
		remoting.GetNamesrvConfig:              b.handleGetNamesrvConfig,
		remoting.GetKVConfig:                   b.handleGetKVConfig,
		remoting.GetTopicsByCluster:            b.handleGetTopicsByCluster,
		remoting.GetSystemTopicListFromNS:      b.handleGetSystemTopicListFromNS,
	}
}

// brokerHandlerTable is the dispatch table of the broker listener. A request
// feature lands here as one line plus one NN_name.go file.
func (b *Broker) brokerHandlerTable() map[int16]handlerFunc {
	return map[int16]handlerFunc{
		remoting.SendMessage:                      b.handleSendMessage,
		remoting.SendMessageV2:                    b.handleSendMessageV2,
		remoting.SendBatchMessage:                 b.handleSendBatchMessage,
		remoting.PullMessage:                      b.handlePullMessage,
		remoting.QueryMessage:                     b.handleQueryMessage,
		remoting.ViewMessageByID:                  b.handleViewMessageByID,
		remoting.QueryConsumerOffset:              b.handleQueryConsumerOffset,
		remoting.UpdateConsumerOffset:             b.handleUpdateConsumerOffset,
		remoting.UpdateAndCreateTopic:             b.handleUpdateAndCreateTopic,
		remoting.GetAllTopicConfig:                b.handleGetAllTopicConfig,
		remoting.SearchOffsetByTimestamp:          b.handleSearchOffsetByTimestamp,
		remoting.GetMaxOffset:                     b.handleGetMaxOffset,
		remoting.GetMinOffset:                     b.handleGetMinOffset,
		remoting.GetEarliestMsgStoretime:          b.handleGetEarliestMsgStoretime,
		remoting.HeartBeat:                        b.handleHeartBeat,
		remoting.UnregisterClient:                 b.handleUnregisterClient,
		remoting.GetConsumerListByGroup:           b.handleGetConsumerListByGroup,
		remoting.GetAllSubscriptionGroupConfig:    b.handleGetAllSubscriptionGroupConfig,
		remoting.DeleteTopicInBroker:              b.handleDeleteTopicInBroker,
		remoting.CheckClientConfig:                b.handleCheckClientConfig,
		remoting.ConsumerSendMsgBack:              b.handleConsumerSendMsgBack,
		remoting.EndTransaction:                   b.handleEndTransaction,
		remoting.LockBatchMQ:                      b.handleLockBatchMQ,
		remoting.UnlockBatchMQ:                    b.handleUnlockBatchMQ,
		remoting.SendReplyMessage:                 b.handleSendReplyMessage,
		remoting.SendReplyMessageV2:               b.handleSendReplyMessageV2,
		remoting.GetConsumerRunningInfo:           b.handleGetConsumerRunningInfo,
		remoting.ConsumeMessageDirectly:           b.handleConsumeMessageDirectly,
		remoting.UpdateAndCreateSubscriptionGroup: b.handleUpdateAndCreateSubscriptionGroup,
		remoting.GetConsumeStats:                  b.handleGetConsumeStats,
		// Admin tools (mqadmin, the dashboard).
		remoting.UpdateBrokerConfig:        b.handleUpdateBrokerConfig,
		remoting.GetBrokerConfig:           b.handleGetBrokerConfig,
		remoting.GetBrokerRuntimeInfo:      b.handleGetBrokerRuntimeInfo,
		remoting.GetAllConsumerOffset:      b.handleGetAllConsumerOffset,
		remoting.GetAllDelayOffset:         b.handleGetAllDelayOffset,
		remoting.GetTopicStatsInfo:         b.handleGetTopicStatsInfo,
		remoting.GetConsumerConnectionList: b.handleGetConsumerConnectionList,
		remoting.GetProducerConnectionList: b.handleGetProducerConnectionList,
		remoting.DeleteSubscriptionGroup:   b.handleDeleteSubscriptionGroup,
		remoting.InvokeBrokerToResetOffset: b.handleInvokeBrokerToResetOffset,
		remoting.QueryTopicConsumeByWho:    b.handleQueryTopicConsumeByWho,
		remoting.ViewBrokerStatsData:       b.handleViewBrokerStatsData,
		remoting.GetBrokerConsumeStats:     b.handleGetBrokerConsumeStats,
		remoting.QueryConsumeQueue:         b.handleQueryConsumeQueue,
	}
}

// Request is a request as interceptors and test hooks see it.
type Request struct {
	// Command is the decoded request; do not modify it.
	Command  *remoting.Command
	Listener Listener
	Remote   net.Addr
}

// Interceptor runs before the handler of every request, on the connection's
// reading goroutine. Returning a non-nil response answers the request with
// it (its opaque and response flag are set for you) and skips the handler:
// this is where an ACL check rejects a request, or a test injects a failure.
// Returning nil lets the request through. Interceptors must not block.
type Interceptor func(req *Request) *remoting.Command

// dispatch runs one request: interceptors, test controls, then the handler
// from the listener's table; it writes the response unless the request was
// oneway or the handler answers later. A panic anywhere in there is
// recovered (recover.go): the request is answered SYSTEM_ERROR and its
// connection closed, nothing else.
func (b *Broker) dispatch(c *conn, req *remoting.Command) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = b.recovered(c, req, p)
		}
	}()
	resp := b.intercept(c, req)
	handled := resp == nil
	if handled {
		table := b.brokerHandlers
		if c.listener == ListenerNameServer {
			table = b.nsHandlers
		}
		h := table[req.Code]
		if h == nil {
			b.log.Logf(LogLevelWarn, "%s: %s sent unsupported request code %d", c.listener, c.RemoteAddr(), req.Code)
			resp = remoting.NewResponse(req, remoting.RequestCodeNotSupported, remarkf(msgRequestCodeNotSupported, req.Code))
		} else {
			var err error
			if resp, err = h(c, req); err != nil {
				return err
			}
		}
	}
	if resp == nil {
		return nil
	}
	if handled && b.syncer != nil && resp.Code == remoting.Success && !req.IsOneway() && storesMessage(req.Code) {
		b.respondWhenDurable(c, req, resp)
		return nil
	}
	if !req.IsOneway() {
		err = b.respond(c, req, resp)
	}
	if handled {
		b.recycle(req, resp)
	}
	return err
}

// respond writes resp as the answer to req on c. A closed connection is not
// an error: the client is gone, there is nobody to answer.
func (b *Broker) respond(c *conn, req, resp *remoting.Command) error {
	resp.Opaque = req.Opaque
	resp.Flag |= remoting.FlagResponse
	if err := c.Send(resp); err != nil && err != remoting.ErrClosed {
		return err
	}
	return nil
}

// recycle takes back the buffers of a handler's response once it has been
// written (Send copies): pull bodies come from a pool. Responses made by
// interceptors and test controls are left alone.
func (b *Broker) recycle(req, resp *remoting.Command) {
	if req.Code == remoting.PullMessage && resp.Body != nil {
		b.releasePullBuffer(resp.Body)
		resp.Body = nil
	}
}

func (b *Broker) intercept(c *conn, req *remoting.Command) *remoting.Command {
	if len(b.cfg.interceptors) == 0 && b.hooks.n.Load() == 0 {
		return nil
	}
	r := &Request{Command: req, Listener: c.listener, Remote: c.RemoteAddr()}
	for _, i := range b.cfg.interceptors {
		if resp := i(r); resp != nil {
			return resp
		}
	}
	return b.hooks.run(r)
}

// hooks holds the test controls installed with Broker.Control.
type hooks struct {
	n  atomic.Int32 // number installed, read without the lock on every request
	mu sync.Mutex
	m  map[int16][]*control
}

type control struct {
	fn func(*Request) *remoting.Command
}

func (h *hooks) add(code int16, fn func(*Request) *remoting.Command) func() {
	ctl := &control{fn: fn}
	h.mu.Lock()
	if h.m == nil {
		h.m = make(map[int16][]*control)
	}
	h.m[code] = append(h.m[code], ctl)
	h.n.Add(1)
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			list := h.m[code]
			for i, x := range list {
				if x == ctl {
					h.m[code] = append(list[:i:i], list[i+1:]...)
					h.n.Add(-1)
					return
				}
			}
		})
	}
}

func (h *hooks) run(r *Request) *remoting.Command {
	h.mu.Lock()
	list := append([]*control(nil), h.m[r.Command.Code]...)
	h.mu.Unlock()
	for _, ctl := range list {
		if resp := ctl.fn(r); resp != nil {
			return resp
		}
	}
	return nil
}

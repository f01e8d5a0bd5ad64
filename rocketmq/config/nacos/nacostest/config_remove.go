package nacostest

import "fmt"

// ConfigRemoveRequest: delete a configuration and notify its listeners, who then read it
// as missing. Removing a missing configuration succeeds. Not implemented: tags.

type configRemove struct {
	DataID string `json:"dataId"`
	Group  string `json:"group"`
	Tenant string `json:"tenant"`
}

type configRemoveResponse struct{ response }

// handleConfigRemove deletes a configuration for a client.
func (s *Server) handleConfigRemove(_ *conn, r *request) reply {
	const typ = "ConfigRemoveResponse"
	var req configRemove
	if err := r.decode(&req); err != nil {
		return errorReply(codeBadGateway, err.Error())
	}
	if req.DataID == "" || req.Group == "" {
		return reply{typ: typ, body: configRemoveResponse{fail(codeInvalidParam,
			fmt.Sprintf("invalid dataId %q or group %q", req.DataID, req.Group))}}
	}
	s.Delete(req.Tenant, req.Group, req.DataID)
	return reply{typ: typ, body: configRemoveResponse{ok()}}
}

// Delete removes a configuration, notifies its listeners and reports whether it existed.
func (s *Server) Delete(namespace, group, dataID string) bool {
	if group == "" {
		group = DefaultGroup
	}
	k := newKey(namespace, group, dataID)
	s.mu.Lock()
	existed := s.remove(k)
	var ls []listener
	if existed {
		ls = s.listenersOf(k)
	}
	s.mu.Unlock()
	s.notify(k, ls)
	return existed
}

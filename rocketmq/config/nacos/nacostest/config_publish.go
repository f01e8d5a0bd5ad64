package nacostest

import "fmt"

// ConfigPublishRequest: store a configuration and notify its listeners. Honoured: content,
// the "type" addition (text when unknown), compare-and-swap on casMd5. Listeners are
// notified only when the MD5 changes, as on the real server. Not implemented: beta IPs,
// tags, encryption, config history.

type configPublish struct {
	DataID      string            `json:"dataId"`
	Group       string            `json:"group"`
	Tenant      string            `json:"tenant"`
	Content     string            `json:"content"`
	CasMd5      string            `json:"casMd5"`
	AdditionMap map[string]string `json:"additionMap"`
}

type configPublishResponse struct{ response }

// handleConfigPublish stores a configuration sent by a client.
func (s *Server) handleConfigPublish(_ *conn, r *request) reply {
	const typ = "ConfigPublishResponse"
	var req configPublish
	if err := r.decode(&req); err != nil {
		return errorReply(codeBadGateway, err.Error())
	}
	if req.DataID == "" || req.Group == "" || req.Content == "" {
		return reply{typ: typ, body: configPublishResponse{fail(codeInvalidParam,
			fmt.Sprintf("invalid dataId %q, group %q or empty content", req.DataID, req.Group))}}
	}
	k := newKey(req.Tenant, req.Group, req.DataID)
	s.mu.Lock()
	if req.CasMd5 != "" && s.serverMD5(k) != req.CasMd5 {
		s.mu.Unlock()
		return reply{typ: typ, body: configPublishResponse{fail(codeServerError, msgCasFailed)}}
	}
	changed := s.put(k, req.Content, req.AdditionMap["type"])
	var ls []listener
	if changed {
		ls = s.listenersOf(k)
	}
	s.mu.Unlock()
	s.notify(k, ls)
	return reply{typ: typ, body: configPublishResponse{ok()}}
}

// Publish stores a configuration as if published from the console and notifies the
// clients listening to it when the content changed. namespace "" is the public namespace,
// group "" is DefaultGroup.
func (s *Server) Publish(namespace, group, dataID, content string) {
	if group == "" {
		group = DefaultGroup
	}
	k := newKey(namespace, group, dataID)
	s.mu.Lock()
	var ls []listener
	if s.put(k, content, typeOf(dataID)) {
		ls = s.listenersOf(k)
	}
	s.mu.Unlock()
	s.notify(k, ls)
}

// Config returns a stored configuration and whether it exists.
func (s *Server) Config(namespace, group, dataID string) (string, bool) {
	if group == "" {
		group = DefaultGroup
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.configs[newKey(namespace, group, dataID)]; ok {
		return it.content, true
	}
	return "", false
}

// typeOf guesses a configuration's type from the data ID's extension, as the console does.
func typeOf(dataID string) string {
	for i := len(dataID) - 1; i >= 0 && dataID[i] != '/'; i-- {
		if dataID[i] == '.' {
			switch ext := dataID[i+1:]; ext {
			case "yml":
				return "yaml"
			default:
				return ext // put stores anything unknown as text
			}
		}
	}
	return "text"
}

package nacostest

// ConfigBatchListenRequest: with listen=true the connection starts (or keeps) listening to
// each configuration and the answer lists those whose MD5 differs from the client's, so a
// client catches up on changes it missed; with listen=false it stops listening. A missing
// configuration has MD5 "" on both sides. The changed entries echo the client's tenant.
// Not implemented: the vipserver tag header, gray rules.

type configBatchListen struct {
	Listen               bool `json:"listen"`
	ConfigListenContexts []struct {
		DataID string `json:"dataId"`
		Group  string `json:"group"`
		Tenant string `json:"tenant"`
		MD5    string `json:"md5"`
	} `json:"configListenContexts"`
}

type configContext struct {
	DataID string `json:"dataId"`
	Group  string `json:"group"`
	Tenant string `json:"tenant"`
}

type configChangeBatchListenResponse struct {
	response
	ChangedConfigs []configContext `json:"changedConfigs"`
}

// handleConfigBatchListen (un)registers the connection as a listener.
func (s *Server) handleConfigBatchListen(c *conn, r *request) reply {
	var req configBatchListen
	if err := r.decode(&req); err != nil {
		return errorReply(codeBadGateway, err.Error())
	}
	resp := configChangeBatchListenResponse{response: ok(), ChangedConfigs: []configContext{}}
	s.mu.Lock()
	for _, lc := range req.ConfigListenContexts {
		k := newKey(lc.Tenant, lc.Group, lc.DataID)
		if !req.Listen {
			s.removeListener(k, c.id)
			continue
		}
		s.addListener(k, c.id, lc.Tenant)
		if s.serverMD5(k) != lc.MD5 {
			resp.ChangedConfigs = append(resp.ChangedConfigs, configContext{DataID: lc.DataID, Group: lc.Group, Tenant: lc.Tenant})
		}
	}
	s.mu.Unlock()
	return reply{typ: "ConfigChangeBatchListenResponse", body: resp}
}

// Listening returns how many connections listen to a configuration.
func (s *Server) Listening(namespace, group, dataID string) int {
	if group == "" {
		group = DefaultGroup
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.listeners[newKey(namespace, group, dataID)])
}

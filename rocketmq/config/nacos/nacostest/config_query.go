package nacostest

import "fmt"

// ConfigQueryRequest: read one configuration (dataId, group, tenant). Honoured: the
// content, its MD5, type and modification time; CONFIG_NOT_FOUND (300) for a missing one,
// which clients treat as "empty, no error". Not implemented: beta and tag (gray) variants,
// encrypted data keys (always empty), the "notify" header (only logged by the real server).

type configQuery struct {
	DataID string `json:"dataId"`
	Group  string `json:"group"`
	Tenant string `json:"tenant"`
	Tag    string `json:"tag"`
}

type configQueryResponse struct {
	response
	Content          string `json:"content,omitempty"`
	EncryptedDataKey string `json:"encryptedDataKey,omitempty"`
	ContentType      string `json:"contentType,omitempty"`
	MD5              string `json:"md5,omitempty"`
	LastModified     int64  `json:"lastModified,omitempty"`
	Beta             bool   `json:"beta"`
}

// handleConfigQuery returns a stored configuration.
func (s *Server) handleConfigQuery(_ *conn, r *request) reply {
	const typ = "ConfigQueryResponse"
	var req configQuery
	if err := r.decode(&req); err != nil {
		return errorReply(codeBadGateway, err.Error())
	}
	if req.DataID == "" || req.Group == "" {
		return reply{typ: typ, body: configQueryResponse{response: fail(codeInvalidParam, fmt.Sprintf("invalid dataId %q or group %q", req.DataID, req.Group))}}
	}
	s.mu.Lock()
	it, found := s.configs[newKey(req.Tenant, req.Group, req.DataID)]
	var resp configQueryResponse
	if found {
		resp = configQueryResponse{response: ok(), Content: it.content, ContentType: it.typ, MD5: it.md5,
			LastModified: it.lastModified.UnixMilli()}
	}
	s.mu.Unlock()
	if !found {
		resp.response = fail(codeConfigNotFound, msgNotFound)
	}
	return reply{typ: typ, body: resp}
}

package nacostest

// ServerCheckRequest: the first request on a new connection; the answer carries the
// connection id the client then names in its log lines. Answered before the connection is
// registered. supportAbilityNegotiation is false: this server sends no SetupAckRequest.

type serverCheckResponse struct {
	response
	ConnectionID              string `json:"connectionId"`
	SupportAbilityNegotiation bool   `json:"supportAbilityNegotiation"`
}

// handleServerCheck tells the client the id of its connection.
func (s *Server) handleServerCheck(connID string) reply {
	return reply{typ: "ServerCheckResponse", body: serverCheckResponse{response: ok(), ConnectionID: connID}}
}

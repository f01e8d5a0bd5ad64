package nacostest

// HealthCheckRequest: sent by the client every few seconds when the connection was idle
// and before it decides to switch servers. Honoured as on the real server: success for a
// registered connection (dispatch answers UN_REGISTER otherwise, and the client reconnects).

type healthCheckResponse struct{ response }

// handleHealthCheck answers that the server is alive.
func (s *Server) handleHealthCheck(*conn, *request) reply {
	return reply{typ: "HealthCheckResponse", body: healthCheckResponse{ok()}}
}

package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/telemetry"
)

// Requests no route takes get a Kratos error body with the right status, like every
// other client error of the API.
func TestUnknownRoutesAnswerWithKratosErrors(t *testing.T) {
	tp, cleanup, err := telemetry.NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	srv, err := NewHTTPServer(&conf.Server{}, nil, nil, tp, log.NewStdLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		reason       string
	}{
		{"GET", "/nope", http.StatusNotFound, "NOT_FOUND"},
		{"POST", "/v1", http.StatusNotFound, "NOT_FOUND"},
		{"DELETE", "/v1/orders", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
		{"PUT", "/v1/orders/x", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader("")))
			var body struct {
				Code    int    `json:"code"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%d %q: not a Kratos error body: %v", rec.Code, rec.Body.String(), err)
			}
			if rec.Code != tc.code || body.Code != tc.code || body.Reason != tc.reason || !strings.Contains(body.Message, tc.path) {
				t.Errorf("%d %+v, want %d with reason %s naming %s", rec.Code, body, tc.code, tc.reason, tc.path)
			}
		})
	}
}

package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadinessHandler(t *testing.T) {
	okCheck := CheckFunc("database", func(context.Context) error { return nil })
	down := CheckFunc("rocketmq", func(context.Context) error { return errors.New("connection refused") })
	slow := CheckFunc("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	tests := []struct {
		name   string
		checks Checkers
		code   int
		want   map[string]string
	}{
		{"no checks", nil, http.StatusOK, map[string]string{}},
		{"all ok", Checkers{okCheck}, http.StatusOK, map[string]string{"database": "ok"}},
		{"one down", Checkers{okCheck, down}, http.StatusServiceUnavailable,
			map[string]string{"database": "ok", "rocketmq": "connection refused"}},
		{"deadline", Checkers{slow}, http.StatusServiceUnavailable,
			map[string]string{"slow": context.DeadlineExceeded.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			ReadinessHandler(tc.checks, 50*time.Millisecond).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tc.code {
				t.Fatalf("code = %d, want %d", rec.Code, tc.code)
			}
			var rep Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Checks) != len(tc.want) {
				t.Fatalf("checks = %v, want %v", rep.Checks, tc.want)
			}
			for k, v := range tc.want {
				if rep.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, rep.Checks[k], v)
				}
			}
			wantStatus := "ok"
			if tc.code != http.StatusOK {
				wantStatus = "unavailable"
			}
			if rep.Status != wantStatus {
				t.Errorf("status = %q, want %q", rep.Status, wantStatus)
			}
		})
	}
}

func TestLivenessHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	LivenessHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("code = %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

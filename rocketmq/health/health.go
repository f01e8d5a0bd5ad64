// Package health serves liveness and readiness over HTTP.
//
// Liveness (/healthz) answers 200 as long as the process serves HTTP at all. Readiness
// (/readyz) runs every Checker with a deadline and answers 200 only when all pass; the
// JSON body lists each check with its error, so an operator sees which dependency is
// down:
//
//	{"status":"unavailable","checks":{"database":"ok","rocketmq":"dial tcp ...: connection refused"}}
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Checker reports whether one dependency is usable.
type Checker interface {
	// Name labels the check in the readiness body ("database", "rocketmq").
	Name() string
	// Check returns nil when the dependency is usable; it must honour ctx's deadline.
	Check(ctx context.Context) error
}

// Checkers is the set of readiness checks of an application (a named type so dependency
// injection can provide it).
type Checkers []Checker

// CheckFunc adapts a function to a Checker.
func CheckFunc(name string, f func(ctx context.Context) error) Checker {
	return checkFunc{name: name, f: f}
}

type checkFunc struct {
	name string
	f    func(ctx context.Context) error
}

func (c checkFunc) Name() string                    { return c.name }
func (c checkFunc) Check(ctx context.Context) error { return c.f(ctx) }

// Report is the readiness body.
type Report struct {
	Status string            `json:"status"` // "ok" or "unavailable"
	Checks map[string]string `json:"checks"` // name → "ok" or the error text
}

// Run runs all checks concurrently, each bounded by timeout, and reports whether all passed.
func (cs Checkers) Run(ctx context.Context, timeout time.Duration) (Report, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := Report{Status: "ok", Checks: make(map[string]string, len(cs))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	ok := true
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := "ok"
			if err := c.Check(ctx); err != nil {
				res = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Checks[c.Name()] = res
			if res != "ok" {
				ok = false
				rep.Status = "unavailable"
			}
		}()
	}
	wg.Wait()
	return rep, ok
}

// LivenessHandler answers 200 {"status":"ok"}.
func LivenessHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, Report{Status: "ok", Checks: map[string]string{}})
	})
}

// ReadinessHandler answers 200 when every check passes within timeout, else 503; the body
// is a Report either way.
func ReadinessHandler(cs Checkers, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, ok := cs.Run(r.Context(), timeout)
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
}

func writeJSON(w http.ResponseWriter, code int, rep Report) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(rep)
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The README's "Add an event" recipe, as files: the event and its use cases in biz, the
// handlers' lines in the service's handler map, the subscriptions in configs/, and a
// test (not part of the recipe) that proves the new event reaches its handler.
const (
	recipeBiz = `package biz

import (
	"context"
	"errors"
	"time"
)

// PointsAwarded is published when loyalty points are awarded for a confirmed order.
type PointsAwarded struct {
	EventID    string    ` + "`json:\"event_id\"`" + `
	OrderID    string    ` + "`json:\"order_id\"`" + `
	Points     int64     ` + "`json:\"points\"`" + `
	OccurredAt time.Time ` + "`json:\"occurred_at\"`" + `
	Version    int       ` + "`json:\"version\"`" + `
}

func (PointsAwarded) EventName() string     { return "PointsAwarded" }
func (e PointsAwarded) EventVersion() int   { return e.Version }
func (e PointsAwarded) EventKey() string    { return e.EventID }
func (e PointsAwarded) AggregateID() string { return e.OrderID }

// AwardPoints handles OrderConfirmed: a point per 100 cents, published as PointsAwarded.
// The event id derives from the confirmation's, so a redelivery publishes nothing twice.
func (uc *OrderUsecase) AwardPoints(ctx context.Context, ev *OrderConfirmed) error {
	o, err := uc.repo.Get(ctx, ev.OrderID)
	if err != nil {
		return err
	}
	awarded := PointsAwarded{EventID: "points-" + ev.EventID, OrderID: o.ID, Points: o.TotalCents / 100, OccurredAt: uc.now().UTC(), Version: 1}
	err = uc.events.PublishInTx(ctx, awarded, func(context.Context) error { return nil })
	if errors.Is(err, ErrAlreadyProcessed) {
		return nil
	}
	return err
}

// OnPointsAwarded handles PointsAwarded.
func (uc *OrderUsecase) OnPointsAwarded(ctx context.Context, ev *PointsAwarded) error {
	uc.log.WithContext(ctx).Infow("msg", "points awarded", "order_id", ev.OrderID, "points", ev.Points)
	return nil
}
`
	recipeHandlers = `
		"award-points":    On(orders.AwardPoints),
		"points-awarded":  On(orders.OnPointsAwarded),`
	recipeConfig = `
      - {topic: orders, handler: award-points, group: order-service-points, consume_from: FIRST_OFFSET}
      - {topic: orders, handler: points-awarded, group: order-service-points-log, consume_from: FIRST_OFFSET}`
	recipeTest = `package main

import (
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/poll"
)

// The new event reaches its handler: an order is confirmed, AwardPoints publishes
// PointsAwarded, and the points-awarded subscription consumes it.
func TestPointsAwardedReachesItsHandler(t *testing.T) {
	cfg := testBootstrap(t)
	group := ""
	for _, s := range cfg.bc.Server.Rocketmq.Subscriptions {
		if s.Handler == "points-awarded" {
			group = s.Group
		}
	}
	if group == "" {
		t.Fatal("configs/config.yaml has no points-awarded subscription")
	}
	a := startApp(t, cfg)
	if code, _ := a.createOrder(t, "c-points"); code != 200 {
		t.Fatalf("POST /v1/orders = %d", code)
	}
	poll.Until(t, 60*time.Second, "PointsAwarded to reach its handler", func() bool {
		return a.metric(t, "rocketmq_consumer_messages_total", ` + "`outcome=\"success\"`" + `, ` + "`group=\"`" + `+group+` + "`\"`" + `) >= 1
	})
}
`
)

// TestAddAnEventRecipe applies the README's "Add an event" recipe to a renamed copy and
// runs the copy's tests: the recipe must touch at most four files of the service (the
// event and its use in biz, the handler map, the subscription), change nothing in
// internal/data or internal/server, and the new event must reach its handler.
func TestAddAnEventRecipe(t *testing.T) {
	root := repoRoot(t)
	skipUnlessTemplate(t, root)
	dest := filepath.Join(t.TempDir(), "svc")
	if _, err := Copy(root, dest, "example.com/acme/points"); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dest)
	writeFile(t, dest, "internal/biz/points.go", recipeBiz)
	insertAfter(t, dest, "internal/service/events.go", `"order-confirmed": On(orders.Notify),`, recipeHandlers)
	insertAfter(t, dest, "configs/config.yaml", "handler: order-confirmed", recipeConfig)
	changed := changedFiles(t, before, snapshot(t, dest))
	if len(changed) > 4 {
		t.Errorf("the recipe touches %d files, want at most 4: %v", len(changed), changed)
	}
	for _, f := range changed {
		if strings.HasPrefix(f, "internal/data/") || strings.HasPrefix(f, "internal/server/") {
			t.Errorf("the recipe touches %s", f)
		}
	}
	t.Logf("the recipe touches %v", changed)
	writeFile(t, dest, "cmd/app/points_test.go", recipeTest)
	goCmd(t, dest, "vet", "./...")
	args := []string{"test", "-short", "-count=1", "./..."}
	if os.Getenv(envFullCopyTests) != "" {
		args = []string{"test", "-count=1", "./..."}
	}
	goCmd(t, dest, args...)
	// The proof ran (and was not filtered away).
	cmd := exec.Command("go", "test", "-count=1", "-run", "TestPointsAwardedReachesItsHandler", "-v", "./cmd/app/")
	cmd.Dir = dest
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestPointsAwardedReachesItsHandler")) {
		t.Fatalf("the new event's test: %v\n%s", err, out)
	}
}

func writeFile(t *testing.T, root, rel, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// insertAfter inserts text after the line of rel that contains marker.
func insertAfter(t *testing.T, root, rel, marker, text string) {
	t.Helper()
	path := filepath.Join(root, rel)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("%s has no %q: update the README's recipe and this test", rel, marker)
	}
	eol := i + strings.IndexByte(s[i:], '\n')
	if err := os.WriteFile(path, []byte(s[:eol]+text+s[eol:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot maps every file below root to its contents.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func changedFiles(t *testing.T, before, after map[string]string) []string {
	t.Helper()
	var out []string
	for f, body := range after {
		if old, ok := before[f]; !ok || old != body {
			out = append(out, f)
		}
	}
	for f := range before {
		if _, ok := after[f]; !ok {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

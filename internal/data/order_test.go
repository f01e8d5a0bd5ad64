package data

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
)

func TestOrderRepoRoundTrip(t *testing.T) { forEachDatabase(t, testOrderRepoRoundTrip) }

func testOrderRepoRoundTrip(t *testing.T, d *Data) {
	ctx := context.Background()
	repo := NewOrderRepo(d)
	at := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)
	want := &biz.Order{
		ID: "o-1", CustomerID: "c-1", TotalCents: 2500, Status: biz.StatusPending, CreatedAt: at, UpdatedAt: at,
		Items: []biz.Item{{SKU: "book", Quantity: 2, UnitPriceCents: 1250}},
	}
	if err := repo.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := repo.Save(ctx, want); err == nil {
		t.Error("saving the same id twice succeeded")
	}
	got, err := repo.Get(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != want.CustomerID || got.TotalCents != want.TotalCents || got.Status != want.Status ||
		!got.CreatedAt.Equal(at) || len(got.Items) != 1 || got.Items[0] != want.Items[0] {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if _, err := repo.Get(ctx, "missing"); !errors.Is(err, biz.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
}

func TestOrderRepoListPages(t *testing.T) { forEachDatabase(t, testOrderRepoListPages) }

func testOrderRepoListPages(t *testing.T, d *Data) {
	ctx := context.Background()
	repo := NewOrderRepo(d)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if err := repo.Save(ctx, &biz.Order{ID: id, CustomerID: "c", Status: biz.StatusPending, Items: []biz.Item{{SKU: "s", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	before := ""
	for page := 0; page < 5; page++ {
		orders, err := repo.List(ctx, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) == 0 {
			break
		}
		for _, o := range orders {
			got = append(got, o.ID)
		}
		before = orders[len(orders)-1].ID
	}
	if want := "edcba"; join(got) != want {
		t.Errorf("pages = %q, want %q", join(got), want)
	}
}

func TestMigrationsApplyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	c := &conf.Data{Database: &conf.Data_Database{Driver: "sqlite", Source: path}}
	for i := 0; i < 2; i++ {
		d, cleanup, err := NewData(c, log.DefaultLogger)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := d.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("open %d: no migration recorded", i)
		}
		cleanup()
	}
}

func TestUnknownDriver(t *testing.T) {
	_, _, err := NewData(&conf.Data{Database: &conf.Data_Database{Driver: "oracle"}}, log.DefaultLogger)
	if err == nil {
		t.Fatal("NewData succeeded for an unknown driver")
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- c\nCREATE TABLE a (x INT); -- t\n\nCREATE TABLE b (\n y INT\n);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x INT)" {
		t.Errorf("splitStatements = %q", got)
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

// pendingOrder stores a PENDING order id created at at, the time it returns.
func pendingOrder(t *testing.T, d *Data, id string) (biz.OrderRepo, time.Time) {
	t.Helper()
	repo := NewOrderRepo(d)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	if err := repo.Save(context.Background(), &biz.Order{ID: id, CustomerID: "c", Status: biz.StatusPending,
		CreatedAt: at, UpdatedAt: at, Items: []biz.Item{{SKU: "s", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	return repo, at
}

func TestOrderRepoConfirm(t *testing.T) { forEachDatabase(t, testOrderRepoConfirm) }

func testOrderRepoConfirm(t *testing.T, d *Data) {
	ctx := context.Background()
	repo, at := pendingOrder(t, d, "o-1")
	confirmedAt := at.Add(time.Second)
	if err := repo.Confirm(ctx, "OrderCreated:e-1", "o-1", confirmedAt); err != nil {
		t.Fatal(err)
	}
	o, err := repo.Get(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != biz.StatusConfirmed || !o.UpdatedAt.Equal(confirmedAt) {
		t.Errorf("after Confirm: status %v updated %v", o.Status, o.UpdatedAt)
	}
	// The same event again changes nothing.
	if err := repo.Confirm(ctx, "OrderCreated:e-1", "o-1", at.Add(time.Hour)); !errors.Is(err, biz.ErrAlreadyProcessed) {
		t.Errorf("duplicate Confirm error = %v, want ErrAlreadyProcessed", err)
	}
	// Another key for a confirmed order changes nothing either, and records nothing.
	if err := repo.Confirm(ctx, "OrderCreated:e-9", "o-1", at.Add(time.Hour)); !errors.Is(err, biz.ErrAlreadyProcessed) {
		t.Errorf("Confirm of a confirmed order error = %v, want ErrAlreadyProcessed", err)
	}
	if err := repo.Confirm(ctx, "OrderCreated:e-8", "missing", at); !errors.Is(err, biz.ErrNotFound) {
		t.Errorf("Confirm of a missing order error = %v, want ErrNotFound", err)
	}
	var n int
	if err := d.db.QueryRow(`SELECT COUNT(*) FROM processed_messages`).Scan(&n); err != nil || n != 1 {
		t.Errorf("processed rows = %d (%v), want only the first key's: the others rolled back", n, err)
	}
	if o, _ := repo.Get(ctx, "o-1"); !o.UpdatedAt.Equal(confirmedAt) {
		t.Errorf("updated_at = %v after the duplicates, want %v", o.UpdatedAt, confirmedAt)
	}
}

func TestOrderRepoMarkNotified(t *testing.T) { forEachDatabase(t, testOrderRepoMarkNotified) }

func testOrderRepoMarkNotified(t *testing.T, d *Data) {
	ctx := context.Background()
	repo, at := pendingOrder(t, d, "o-1")
	if o, _ := repo.Get(ctx, "o-1"); !o.NotifiedAt.IsZero() {
		t.Fatalf("a new order is notified at %v", o.NotifiedAt)
	}
	notifiedAt := at.Add(time.Minute)
	if err := repo.MarkNotified(ctx, "OrderConfirmed:e-1", "o-1", notifiedAt); err != nil {
		t.Fatal(err)
	}
	if o, _ := repo.Get(ctx, "o-1"); !o.NotifiedAt.Equal(notifiedAt) {
		t.Errorf("notified at %v, want %v", o.NotifiedAt, notifiedAt)
	}
	for _, tc := range []struct {
		name, key, order string
		want             error
	}{
		{"same event again", "OrderConfirmed:e-1", "o-1", biz.ErrAlreadyProcessed},
		{"another event for a notified order", "OrderConfirmed:e-2", "o-1", biz.ErrAlreadyProcessed},
		{"no such order", "OrderConfirmed:e-3", "missing", biz.ErrNotFound},
	} {
		if err := repo.MarkNotified(ctx, tc.key, tc.order, at.Add(time.Hour)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
	if o, _ := repo.Get(ctx, "o-1"); !o.NotifiedAt.Equal(notifiedAt) {
		t.Errorf("notified at %v after the duplicates, want %v", o.NotifiedAt, notifiedAt)
	}
}

package biz

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
)

// fakeRepo is an in-memory OrderRepo; err, when set, is what every call returns.
type fakeRepo struct {
	orders    map[string]*Order
	processed map[string]bool
	err       error
	inTx      bool // set by fakePublisher while its tx runs; Save and Confirm require it
	listArgs  []any
}

func newFakeRepo() *fakeRepo {
	return &fakeRepo{orders: map[string]*Order{}, processed: map[string]bool{}}
}

func (r *fakeRepo) Save(_ context.Context, o *Order) error {
	if r.err != nil {
		return r.err
	}
	if !r.inTx {
		return errors.New("Save outside the publisher's transaction")
	}
	c := *o
	r.orders[o.ID] = &c
	return nil
}

// once is Confirm's and MarkNotified's dedup rule.
func (r *fakeRepo) once(key, id string, apply func(o *Order) bool) error {
	if r.err != nil {
		return r.err
	}
	o, ok := r.orders[id]
	switch {
	case r.processed[key]:
		return ErrAlreadyProcessed
	case !ok:
		return ErrNotFound
	case !apply(o):
		return ErrAlreadyProcessed
	}
	r.processed[key] = true
	return nil
}

func (r *fakeRepo) Confirm(_ context.Context, key, id string, at time.Time) error {
	if !r.inTx {
		return errors.New("Confirm outside the publisher's transaction")
	}
	return r.once(key, id, func(o *Order) bool {
		if o.Status != StatusPending {
			return false
		}
		o.Status, o.UpdatedAt = StatusConfirmed, at
		return true
	})
}

func (r *fakeRepo) MarkNotified(_ context.Context, key, id string, at time.Time) error {
	return r.once(key, id, func(o *Order) bool {
		if !o.NotifiedAt.IsZero() {
			return false
		}
		o.NotifiedAt = at
		return true
	})
}

func (r *fakeRepo) Get(_ context.Context, id string) (*Order, error) {
	if r.err != nil {
		return nil, r.err
	}
	o, ok := r.orders[id]
	if !ok {
		return nil, ErrNotFound
	}
	return o, nil
}

func (r *fakeRepo) List(_ context.Context, before string, limit int) ([]*Order, error) {
	r.listArgs = []any{before, limit}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]*Order, 0, limit)
	for i := 0; i < limit; i++ {
		out = append(out, &Order{ID: string(rune('z' - i))})
	}
	return out, nil
}

// fakePublisher runs tx like the real one (inside its "transaction") and keeps the
// events whose tx succeeded; err, when set, fails the publish after tx ran.
type fakePublisher struct {
	repo      *fakeRepo
	published []Event
	err       error
}

func (p *fakePublisher) PublishInTx(ctx context.Context, e Event, tx func(ctx context.Context) error) error {
	p.repo.inTx = true
	err := tx(ctx)
	p.repo.inTx = false
	if err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	p.published = append(p.published, e)
	return nil
}

var fixedNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newUsecase() (*OrderUsecase, *fakeRepo, *fakePublisher) {
	repo := newFakeRepo()
	pub := &fakePublisher{repo: repo}
	uc := NewOrderUsecase(repo, pub, log.NewStdLogger(io.Discard))
	uc.now = func() time.Time { return fixedNow }
	return uc, repo, pub
}

func TestCreate(t *testing.T) {
	book := Item{SKU: "book", Quantity: 2, UnitPriceCents: 1250}
	for _, tc := range []struct {
		name     string
		customer string
		items    []Item
		want     string // "" or the error message part
	}{
		{"valid", " c-1 ", []Item{book, {SKU: "pen", Quantity: 1, UnitPriceCents: 99}}, ""},
		{"no customer", "  ", []Item{book}, "customer_id must be 1 to 64"},
		{"long customer", strings.Repeat("c", MaxIDLength+1), []Item{book}, "customer_id"},
		{"no items", "c", nil, "1 to 100 items"},
		{"too many items", "c", make([]Item, MaxItems+1), "1 to 100 items"},
		{"no sku", "c", []Item{{Quantity: 1}}, "items[0].sku"},
		{"zero quantity", "c", []Item{book, {SKU: "x"}}, "items[1].quantity"},
		{"quantity too large", "c", []Item{{SKU: "x", Quantity: MaxQuantity + 1}}, "items[0].quantity"},
		{"negative price", "c", []Item{{SKU: "x", Quantity: 1, UnitPriceCents: -1}}, "items[0].unit_price_cents"},
		{"price too large", "c", []Item{{SKU: "x", Quantity: 1, UnitPriceCents: maxTotalCents}}, "items[0].unit_price_cents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, repo, pub := newUsecase()
			o, err := uc.Create(context.Background(), tc.customer, tc.items)
			if tc.want != "" {
				if !v1.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error = %v, want INVALID_ARGUMENT about %s", err, tc.want)
				}
				if len(repo.orders) != 0 || len(pub.published) != 0 {
					t.Error("an invalid order was stored or published")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.CustomerID != "c-1" || o.TotalCents != 2599 || o.Status != StatusPending || !o.CreatedAt.Equal(fixedNow) || o.ID == "" {
				t.Errorf("order = %+v", o)
			}
			if repo.orders[o.ID] == nil {
				t.Error("order not saved")
			}
			if len(pub.published) != 1 {
				t.Fatalf("published %d events, want 1", len(pub.published))
			}
			ev, ok := pub.published[0].(OrderCreated)
			if !ok || ev.OrderID != o.ID || ev.CustomerID != "c-1" || ev.TotalCents != 2599 || ev.Items != 2 ||
				ev.Version != OrderCreatedVersion || ev.EventID == "" || ev.EventKey() != ev.EventID || ev.AggregateID() != o.ID {
				t.Errorf("event = %#v", pub.published[0])
			}
		})
	}
}

func TestCreateFailuresAreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(*fakeRepo, *fakePublisher)
	}{
		{"the insert fails", func(r *fakeRepo, _ *fakePublisher) { r.err = errors.New("disk full") }},
		{"the publish fails", func(_ *fakeRepo, p *fakePublisher) { p.err = errors.New("broker down") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, repo, pub := newUsecase()
			tc.fail(repo, pub)
			_, err := uc.Create(context.Background(), "c", []Item{{SKU: "s", Quantity: 1}})
			if !v1.IsUnavailable(err) {
				t.Fatalf("error = %v, want UNAVAILABLE", err)
			}
		})
	}
}

// TestEventHandlers runs the use cases of the two event handlers (Confirm, Notify).
func TestEventHandlers(t *testing.T) {
	stored := func(repo *fakeRepo) { repo.orders["o-1"] = &Order{ID: "o-1", Status: StatusPending} }
	created := &OrderCreated{EventID: "e-1", OrderID: "o-1", Version: OrderCreatedVersion}
	confirmed := &OrderConfirmed{EventID: "e-2", OrderID: "o-1", Version: OrderConfirmedVersion}
	for _, tc := range []struct {
		name        string
		setup       func(*fakeRepo)
		run         func(ctx context.Context, uc *OrderUsecase) error
		wantErr     error // nil, ErrUnprocessable, or errAny
		wantPublish int
		check       func(t *testing.T, r *fakeRepo)
	}{
		{"confirm", stored, func(ctx context.Context, uc *OrderUsecase) error { return uc.Confirm(ctx, created) }, nil, 1,
			func(t *testing.T, r *fakeRepo) {
				if o := r.orders["o-1"]; o.Status != StatusConfirmed || !o.UpdatedAt.Equal(fixedNow) || !r.processed["OrderCreated:e-1"] {
					t.Errorf("order %+v, processed %v", o, r.processed)
				}
			}},
		{"confirm twice: once", stored, func(ctx context.Context, uc *OrderUsecase) error {
			if err := uc.Confirm(ctx, created); err != nil {
				return err
			}
			return uc.Confirm(ctx, created)
		}, nil, 1, nil},
		{"confirm an unknown version", stored, func(ctx context.Context, uc *OrderUsecase) error {
			return uc.Confirm(ctx, &OrderCreated{EventID: "e", OrderID: "o-1", Version: 99})
		}, ErrUnprocessable, 0, nil},
		{"confirm without ids", stored, func(ctx context.Context, uc *OrderUsecase) error {
			return uc.Confirm(ctx, &OrderCreated{Version: OrderCreatedVersion})
		}, ErrUnprocessable, 0, nil},
		{"confirm a missing order", func(*fakeRepo) {}, func(ctx context.Context, uc *OrderUsecase) error { return uc.Confirm(ctx, created) },
			ErrUnprocessable, 0, nil},
		{"confirm on a failing database", func(r *fakeRepo) { stored(r); r.err = errors.New("locked") },
			func(ctx context.Context, uc *OrderUsecase) error { return uc.Confirm(ctx, created) }, errAny, 0, nil},
		{"notify", stored, func(ctx context.Context, uc *OrderUsecase) error { return uc.Notify(ctx, confirmed) }, nil, 0,
			func(t *testing.T, r *fakeRepo) {
				if o := r.orders["o-1"]; !o.NotifiedAt.Equal(fixedNow) || !r.processed["OrderConfirmed:e-2"] {
					t.Errorf("order %+v, processed %v", o, r.processed)
				}
			}},
		{"notify twice: once", stored, func(ctx context.Context, uc *OrderUsecase) error {
			if err := uc.Notify(ctx, confirmed); err != nil {
				return err
			}
			return uc.Notify(ctx, &OrderConfirmed{EventID: "e-3", OrderID: "o-1", Version: OrderConfirmedVersion})
		}, nil, 0, nil},
		{"notify an unknown version", stored, func(ctx context.Context, uc *OrderUsecase) error {
			return uc.Notify(ctx, &OrderConfirmed{EventID: "e", OrderID: "o-1", Version: 2})
		}, ErrUnprocessable, 0, nil},
		{"notify a missing order", func(*fakeRepo) {}, func(ctx context.Context, uc *OrderUsecase) error { return uc.Notify(ctx, confirmed) },
			ErrUnprocessable, 0, nil},
		{"notify on a failing database", func(r *fakeRepo) { stored(r); r.err = errors.New("locked") },
			func(ctx context.Context, uc *OrderUsecase) error { return uc.Notify(ctx, confirmed) }, errAny, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, repo, pub := newUsecase()
			tc.setup(repo)
			err := tc.run(context.Background(), uc)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("error = %v", err)
			case tc.wantErr == errAny && (err == nil || errors.Is(err, ErrUnprocessable)):
				t.Fatalf("error = %v, want one that asks for redelivery", err)
			case tc.wantErr == ErrUnprocessable && !errors.Is(err, ErrUnprocessable):
				t.Fatalf("error = %v, want ErrUnprocessable", err)
			}
			if len(pub.published) != tc.wantPublish {
				t.Errorf("published %d events, want %d", len(pub.published), tc.wantPublish)
			}
			if tc.wantPublish == 1 {
				if ev, ok := pub.published[0].(OrderConfirmed); !ok || ev.OrderID != "o-1" || ev.EventID == "" || ev.Version != OrderConfirmedVersion {
					t.Errorf("published %#v, want the OrderConfirmed of o-1", pub.published[0])
				}
			}
			if tc.check != nil {
				tc.check(t, repo)
			}
		})
	}
}

// errAny stands for any error that is not ErrUnprocessable.
var errAny = errors.New("any error")

func TestGet(t *testing.T) {
	uc, repo, _ := newUsecase()
	repo.orders["o-1"] = &Order{ID: "o-1"}
	if o, err := uc.Get(context.Background(), "o-1"); err != nil || o.ID != "o-1" {
		t.Fatalf("Get = %v, %v", o, err)
	}
	for _, tc := range []struct {
		name, id string
		repoErr  error
		is       func(error) bool
	}{
		{"empty id", "", nil, v1.IsInvalidArgument},
		{"long id", strings.Repeat("x", MaxIDLength+1), nil, v1.IsInvalidArgument},
		{"missing", "nope", nil, v1.IsOrderNotFound},
		{"database down", "o-1", errors.New("down"), v1.IsUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo.err = tc.repoErr
			if _, err := uc.Get(context.Background(), tc.id); !tc.is(err) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      int
		token     string
		repoErr   error
		is        func(error) bool
		wantLimit int
		wantNext  string
	}{
		{"default page", 0, "", nil, nil, DefaultPage + 1, string(rune('z' - DefaultPage + 1))},
		{"page of 3 after a token", 3, "m", nil, nil, 4, "x"},
		{"negative size", -1, "", nil, v1.IsInvalidArgument, 0, ""},
		{"size too large", MaxPage + 1, "", nil, v1.IsInvalidArgument, 0, ""},
		{"token too long", 1, strings.Repeat("t", MaxIDLength+1), nil, v1.IsInvalidArgument, 0, ""},
		{"database down", 1, "", errors.New("down"), v1.IsUnavailable, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, repo, _ := newUsecase()
			repo.err = tc.repoErr
			orders, next, err := uc.List(context.Background(), tc.size, tc.token)
			if tc.is != nil {
				if !tc.is(err) {
					t.Fatalf("error = %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.wantLimit != 0 && (repo.listArgs[0] != tc.token || repo.listArgs[1] != tc.wantLimit) {
				t.Errorf("repo.List(%v), want (%q, %d): one more than the page tells whether there is a next", repo.listArgs, tc.token, tc.wantLimit)
			}
			if tc.is == nil && (next != tc.wantNext || len(orders) != tc.wantLimit-1) {
				t.Errorf("%d orders, next %q; want %d, %q", len(orders), next, tc.wantLimit-1, tc.wantNext)
			}
		})
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusPending: "PENDING", StatusConfirmed: "CONFIRMED", Status(9): "Status(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

package service

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/layout/internal/biz"
)

// orderStore is the part of biz.OrderRepo the API uses, in memory.
type orderStore map[string]*biz.Order

func (s orderStore) Save(_ context.Context, o *biz.Order) error { s[o.ID] = o; return nil }
func (s orderStore) Get(_ context.Context, id string) (*biz.Order, error) {
	if o, ok := s[id]; ok {
		return o, nil
	}
	return nil, biz.ErrNotFound
}
func (s orderStore) List(context.Context, string, int) ([]*biz.Order, error) {
	return []*biz.Order{s["b"], s["a"]}, nil
}
func (orderStore) Confirm(context.Context, string, string, time.Time) error {
	return errors.ErrUnsupported
}
func (orderStore) MarkNotified(context.Context, string, string, time.Time) error {
	return errors.ErrUnsupported
}

// publishAll runs the local transaction and publishes nothing.
type publishAll struct{}

func (publishAll) PublishInTx(ctx context.Context, _ biz.Event, tx func(context.Context) error) error {
	return tx(ctx)
}

func newService(store orderStore) *OrderService {
	return NewOrderService(biz.NewOrderUsecase(store, publishAll{}, log.NewStdLogger(io.Discard)))
}

func TestCreateOrderMapsTheRequest(t *testing.T) {
	store := orderStore{}
	got, err := newService(store).CreateOrder(context.Background(), &v1.CreateOrderRequest{
		CustomerId: "c-1",
		Items:      []*v1.Item{{Sku: "book", Quantity: 2, UnitPriceCents: 1250}, {Sku: "pen", Quantity: 1, UnitPriceCents: 5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := store[got.GetId()]
	if stored == nil || len(stored.Items) != 2 || stored.Items[1] != (biz.Item{SKU: "pen", Quantity: 1, UnitPriceCents: 5}) {
		t.Fatalf("stored %+v", stored)
	}
	if got.GetTotalCents() != 2505 || got.GetStatus() != v1.OrderStatus_PENDING || got.GetNotified() || len(got.GetItems()) != 2 {
		t.Errorf("reply %v", got)
	}
}

func TestOrdersAsTheAPIShowsThem(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	store := orderStore{
		"a": {ID: "a", CustomerID: "c", Status: biz.StatusPending, CreatedAt: at, UpdatedAt: at,
			Items: []biz.Item{{SKU: "s", Quantity: 3, UnitPriceCents: 7}}, TotalCents: 21},
		"b": {ID: "b", Status: biz.StatusConfirmed, CreatedAt: at, UpdatedAt: at.Add(time.Second), NotifiedAt: at.Add(time.Minute)},
		"c": {ID: "c", Status: biz.Status(0)},
	}
	svc := newService(store)
	for _, tc := range []struct {
		id       string
		status   v1.OrderStatus
		notified bool
	}{
		{"a", v1.OrderStatus_PENDING, false},
		{"b", v1.OrderStatus_CONFIRMED, true},
		{"c", v1.OrderStatus_ORDER_STATUS_UNSPECIFIED, false},
	} {
		o, err := svc.GetOrder(context.Background(), &v1.GetOrderRequest{Id: tc.id})
		if err != nil {
			t.Fatal(err)
		}
		if o.GetId() != tc.id || o.GetStatus() != tc.status || o.GetNotified() != tc.notified {
			t.Errorf("GET %s = %v, want status %v notified %v", tc.id, o, tc.status, tc.notified)
		}
	}
	a, _ := svc.GetOrder(context.Background(), &v1.GetOrderRequest{Id: "a"})
	if it := a.GetItems()[0]; it.GetSku() != "s" || it.GetQuantity() != 3 || it.GetUnitPriceCents() != 7 || a.GetTotalCents() != 21 ||
		!a.GetCreatedAt().AsTime().Equal(at) || a.GetCustomerId() != "c" {
		t.Errorf("order a = %v", a)
	}
	if _, err := svc.GetOrder(context.Background(), &v1.GetOrderRequest{Id: "nope"}); !v1.IsOrderNotFound(err) {
		t.Errorf("GET of a missing order: %v, want ORDER_NOT_FOUND", err)
	}
	list, err := svc.ListOrders(context.Background(), &v1.ListOrdersRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetOrders()) != 1 || list.GetOrders()[0].GetId() != "b" || list.GetNextPageToken() != "b" {
		t.Errorf("list = %v, want b and the token b", list)
	}
}

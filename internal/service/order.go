package service

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/kratos-rocketmq/layout/api/order/v1"
	"github.com/kratos-rocketmq/layout/internal/biz"
)

// OrderService implements the order API over HTTP and gRPC.
type OrderService struct {
	v1.UnimplementedOrderServiceServer

	uc *biz.OrderUsecase
}

var (
	_ v1.OrderServiceHTTPServer = (*OrderService)(nil)
	_ v1.OrderServiceServer     = (*OrderService)(nil)
)

// NewOrderService returns the order API on uc.
func NewOrderService(uc *biz.OrderUsecase) *OrderService {
	return &OrderService{uc: uc}
}

// CreateOrder implements v1.OrderServiceServer.
func (s *OrderService) CreateOrder(ctx context.Context, req *v1.CreateOrderRequest) (*v1.Order, error) {
	items := make([]biz.Item, len(req.GetItems()))
	for i, it := range req.GetItems() {
		items[i] = biz.Item{SKU: it.GetSku(), Quantity: it.GetQuantity(), UnitPriceCents: it.GetUnitPriceCents()}
	}
	o, err := s.uc.Create(ctx, req.GetCustomerId(), items)
	if err != nil {
		return nil, err
	}
	return toProto(o), nil
}

// GetOrder implements v1.OrderServiceServer.
func (s *OrderService) GetOrder(ctx context.Context, req *v1.GetOrderRequest) (*v1.Order, error) {
	o, err := s.uc.Get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return toProto(o), nil
}

// ListOrders implements v1.OrderServiceServer.
func (s *OrderService) ListOrders(ctx context.Context, req *v1.ListOrdersRequest) (*v1.ListOrdersReply, error) {
	orders, next, err := s.uc.List(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &v1.ListOrdersReply{Orders: make([]*v1.Order, len(orders)), NextPageToken: next}
	for i, o := range orders {
		out.Orders[i] = toProto(o)
	}
	return out, nil
}

func toProto(o *biz.Order) *v1.Order {
	items := make([]*v1.Item, len(o.Items))
	for i, it := range o.Items {
		items[i] = &v1.Item{Sku: it.SKU, Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents}
	}
	status := v1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	switch o.Status {
	case biz.StatusPending:
		status = v1.OrderStatus_PENDING
	case biz.StatusConfirmed:
		status = v1.OrderStatus_CONFIRMED
	}
	return &v1.Order{
		Id:         o.ID,
		CustomerId: o.CustomerID,
		Items:      items,
		TotalCents: o.TotalCents,
		Status:     status,
		CreatedAt:  timestamppb.New(o.CreatedAt),
		UpdatedAt:  timestamppb.New(o.UpdatedAt),
		Notified:   !o.NotifiedAt.IsZero(),
	}
}

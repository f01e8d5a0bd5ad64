package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/rocketmq/broker"
)

func TestEventHandlersAreNamedAndTyped(t *testing.T) {
	hs := NewEventHandlers(biz.NewOrderUsecase(nil, nil, log.NewStdLogger(io.Discard)))
	want := map[string]string{"order-created": biz.EventOrderCreated, "order-confirmed": biz.EventOrderConfirmed}
	if got := hs.Names(); len(got) != len(hs) || !slices.IsSorted(got) {
		t.Errorf("Names = %v, want the %d names sorted", got, len(hs))
	}
	for name, event := range want {
		if hs[name].Event != event {
			t.Errorf("handler %s takes %q, want %q", name, hs[name].Event, event)
		}
	}
}

func TestTransportHandlerOutcomes(t *testing.T) {
	transient := errors.New("database locked")
	for _, tc := range []struct {
		name       string
		err        error
		wantErr    bool
		deadLetter bool
	}{
		{"handled", nil, false, false},
		{"unprocessable: dead letter at once", fmt.Errorf("%w: version 9", biz.ErrUnprocessable), true, true},
		{"any other error: redelivered", transient, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *biz.OrderCreated
			h := transportHandler(func(_ context.Context, ev *biz.OrderCreated) error {
				got = ev
				return tc.err
			})
			ev := &biz.OrderCreated{EventID: "e"}
			err := h(context.Background(), "orders", broker.Headers{}, ev)
			if got != ev {
				t.Error("the use case did not get the decoded event")
			}
			if (err != nil) != tc.wantErr || errors.Is(err, broker.ErrDeadLetter) != tc.deadLetter {
				t.Errorf("error = %v, want error %v, dead letter %v", err, tc.wantErr, tc.deadLetter)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v lost its cause %v", err, tc.err)
			}
		})
	}
}

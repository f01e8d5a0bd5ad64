package data

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kratos-rocketmq/layout/internal/biz"
)

type orderRepo struct {
	data *Data
}

// NewOrderRepo returns the SQL implementation of biz.OrderRepo.
func NewOrderRepo(data *Data) biz.OrderRepo {
	return &orderRepo{data: data}
}

// itemJSON is the stored form of biz.Item.
type itemJSON struct {
	SKU            string `json:"sku"`
	Quantity       int32  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

const orderColumns = `id, customer_id, items, total_cents, status, created_at, updated_at, notified_at`

func (r *orderRepo) Save(ctx context.Context, o *biz.Order) error {
	items := make([]itemJSON, len(o.Items))
	for i, it := range o.Items {
		items[i] = itemJSON{SKU: it.SKU, Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents}
	}
	itemsJSON, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("encode items of order %s: %w", o.ID, err)
	}
	_, err = r.data.conn(ctx).ExecContext(ctx, r.data.dialect.rebind(`INSERT INTO orders (`+orderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`),
		o.ID, o.CustomerID, string(itemsJSON), o.TotalCents, o.Status.String(),
		o.CreatedAt.UnixMilli(), o.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	return nil
}

func (r *orderRepo) Get(ctx context.Context, id string) (*biz.Order, error) {
	row := r.data.conn(ctx).QueryRowContext(ctx, r.data.dialect.rebind(`SELECT `+orderColumns+` FROM orders WHERE id = ?`), id)
	o, err := scanOrder(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, biz.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load order %s: %w", id, err)
	}
	return o, nil
}

func (r *orderRepo) List(ctx context.Context, before string, limit int) ([]*biz.Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders ORDER BY id DESC LIMIT ?`
	args := []any{limit}
	if before != "" {
		q = `SELECT ` + orderColumns + ` FROM orders WHERE id < ? ORDER BY id DESC LIMIT ?`
		args = []any{before, limit}
	}
	rows, err := r.data.conn(ctx).QueryContext(ctx, r.data.dialect.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var out []*biz.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("list orders: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanOrder(s scanner) (*biz.Order, error) {
	var (
		o                biz.Order
		items, status    string
		created, updated int64
		notified         sql.NullInt64
	)
	if err := s.Scan(&o.ID, &o.CustomerID, &items, &o.TotalCents, &status, &created, &updated, &notified); err != nil {
		return nil, err
	}
	var stored []itemJSON
	if err := json.Unmarshal([]byte(items), &stored); err != nil {
		return nil, fmt.Errorf("decode items of order %s: %w", o.ID, err)
	}
	o.Items = make([]biz.Item, len(stored))
	for i, it := range stored {
		o.Items[i] = biz.Item{SKU: it.SKU, Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents}
	}
	switch status {
	case biz.StatusPending.String():
		o.Status = biz.StatusPending
	case biz.StatusConfirmed.String():
		o.Status = biz.StatusConfirmed
	default:
		return nil, fmt.Errorf("order %s has unknown status %q", o.ID, status)
	}
	o.CreatedAt = time.UnixMilli(created).UTC()
	o.UpdatedAt = time.UnixMilli(updated).UTC()
	if notified.Valid {
		o.NotifiedAt = time.UnixMilli(notified.Int64).UTC()
	}
	return &o, nil
}

func (r *orderRepo) Confirm(ctx context.Context, dedupKey, orderID string, at time.Time) error {
	return r.once(ctx, dedupKey, orderID, at, `status = ?, updated_at = ?`, `status = ?`,
		biz.StatusConfirmed.String(), at.UnixMilli(), orderID, biz.StatusPending.String())
}

func (r *orderRepo) MarkNotified(ctx context.Context, dedupKey, orderID string, at time.Time) error {
	return r.once(ctx, dedupKey, orderID, at, `notified_at = ?`, `notified_at IS NULL`, at.UnixMilli(), orderID)
}

// once is the idempotent update of an event handler: in one transaction (the one of ctx,
// or its own) it records dedupKey in processed_messages and runs UPDATE orders SET set
// WHERE id = ? AND unless (args: set's, the order id, unless's). A key recorded before,
// or an order the update does not apply to any more, is biz.ErrAlreadyProcessed (nothing
// changes); a missing order is biz.ErrNotFound.
func (r *orderRepo) once(ctx context.Context, dedupKey, orderID string, at time.Time, set, unless string, args ...any) error {
	d := r.data.dialect
	return r.data.inTx(ctx, func(ctx context.Context) error {
		c := r.data.conn(ctx)
		_, err := c.ExecContext(ctx, d.rebind(`INSERT INTO processed_messages (dedup_key, processed_at) VALUES (?, ?)`),
			dedupKey, at.UnixMilli())
		if d.isUniqueViolation(err) {
			return biz.ErrAlreadyProcessed
		}
		if err != nil {
			return fmt.Errorf("record %s as processed: %w", dedupKey, err)
		}
		res, err := c.ExecContext(ctx, d.rebind(`UPDATE orders SET `+set+` WHERE id = ? AND `+unless), args...)
		if err != nil {
			return fmt.Errorf("update order %s: %w", orderID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update order %s: %w", orderID, err)
		} else if n > 0 {
			return nil
		}
		var one int
		err = c.QueryRowContext(ctx, d.rebind(`SELECT 1 FROM orders WHERE id = ?`), orderID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return biz.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update order %s: %w", orderID, err)
		}
		return biz.ErrAlreadyProcessed // done before, under another key
	})
}

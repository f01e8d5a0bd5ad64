package data

import (
	"context"
	"database/sql"
	"fmt"
)

// conn is what *sql.DB and *sql.Tx share.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txKey is the context key of the transaction inTx runs fn in.
type txKey struct{}

// conn returns the transaction of ctx (see inTx), or the database: repository methods run
// their statements on it, so that a use case's changes and the event it publishes commit
// together.
func (d *Data) conn(ctx context.Context) conn {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return d.db
}

// inTx runs fn in one database transaction, handed to the repository methods fn calls
// through its ctx. With a transaction in ctx already, fn joins it (whoever began it
// commits); otherwise inTx begins one, commits it when fn returns nil and rolls it back
// when it does not (or when ctx ends first).
func (d *Data) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return fn(ctx)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

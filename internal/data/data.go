// Package data implements the biz ports: the SQL order repository and the RocketMQ event
// publisher, whose local transactions (inTx) record every event for the check-back.
package data

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/google/wire"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/health"
)

// ProviderSet is data providers.
var ProviderSet = wire.NewSet(NewData, NewOrderRepo, NewEventPublisher, NewHealthCheckers)

// Data holds the database handle shared by the repositories.
type Data struct {
	db      *sql.DB
	dialect dialect
}

// NewData opens the database named by c.Database, applies pending migrations and returns a
// cleanup that closes it.
func NewData(c *conf.Data, logger log.Logger) (*Data, func(), error) {
	h := log.NewHelper(log.With(logger, "module", "data"))
	dbc := c.GetDatabase()
	d, err := dialectOf(dbc.GetDriver())
	if err != nil {
		return nil, nil, err
	}
	dsn := dbc.GetSource()
	if d.name == "sqlite" {
		if dsn, err = sqliteDSN(dsn); err != nil {
			return nil, nil, err
		}
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s database: %w", d.name, err)
	}
	configurePool(db, d, dbc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("connect to %s database: %w", d.name, err)
	}
	applied, err := migrate(ctx, db, d)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	h.Infow("msg", "database ready", "driver", d.name, "migrations_applied", applied)
	cleanup := func() {
		if err := db.Close(); err != nil {
			h.Errorw("msg", "close database", "err", err)
		}
	}
	return &Data{db: db, dialect: d}, cleanup, nil
}

// NewHealthCheckers returns the readiness checks of the outbound resources: the database
// and the RocketMQ cluster the events go to.
func NewHealthCheckers(d *Data, ep *cluster.Endpoint) health.Checkers {
	return health.Checkers{health.CheckFunc("database", d.db.PingContext), ep.Producer.HealthCheck()}
}

// sqliteDSN turns a file path into a modernc.org/sqlite DSN with the settings a server
// needs (WAL, a busy timeout, immediate write transactions) and creates its directory.
func sqliteDSN(source string) (string, error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(source, "file:"), "?")
	if path != ":memory:" && path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("create database directory for %s: %w", path, err)
		}
	}
	params := []string{"_pragma=busy_timeout(5000)", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)", "_txlock=immediate"}
	if query != "" {
		params = append(params, query)
	}
	return "file:" + path + "?" + strings.Join(params, "&"), nil
}

func configurePool(db *sql.DB, d dialect, c *conf.Data_Database) {
	maxOpen := int(c.GetMaxOpenConns())
	if maxOpen == 0 && d.name == "sqlite" {
		maxOpen = 4 // one writer at a time anyway; a few readers beside it
	}
	db.SetMaxOpenConns(maxOpen)
	if n := int(c.GetMaxIdleConns()); n > 0 {
		db.SetMaxIdleConns(n)
	}
	if lt := c.GetConnMaxLifetime(); lt != nil {
		db.SetConnMaxLifetime(lt.AsDuration())
	}
}

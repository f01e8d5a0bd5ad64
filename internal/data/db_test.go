package data

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/conf"
)

// The data layer's tests run on SQLite always, and on PostgreSQL and MySQL when
// TEST_POSTGRES_DSN / TEST_MYSQL_DSN name a server (.ci/run starts both). Each test gets
// its own schema (PostgreSQL) or database (MySQL), dropped afterwards.

var schemaSeq atomic.Int64

// forEachDatabase runs f once per available database, each with a fresh *Data.
func forEachDatabase(t *testing.T, f func(t *testing.T, d *Data)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		f(t, openTestData(t, &conf.Data_Database{Driver: "sqlite", Source: filepath.Join(t.TempDir(), "sub", "app.db")}))
	})
	if dsn := os.Getenv("TEST_POSTGRES_DSN"); dsn != "" {
		t.Run("postgres", func(t *testing.T) {
			schema := isolate(t, "pgx", dsn, "CREATE SCHEMA %s", "DROP SCHEMA %s CASCADE")
			f(t, openTestData(t, &conf.Data_Database{Driver: "postgres", Source: withParam(dsn, "search_path", schema)}))
		})
	}
	if dsn := os.Getenv("TEST_MYSQL_DSN"); dsn != "" {
		t.Run("mysql", func(t *testing.T) {
			db := isolate(t, "mysql", dsn, "CREATE DATABASE %s", "DROP DATABASE %s")
			// DSN form user:pass@tcp(host:port)/dbname?params
			base, params, _ := strings.Cut(dsn, "?")
			base = base[:strings.LastIndex(base, "/")+1] + db
			if params != "" {
				base += "?" + params
			}
			f(t, openTestData(t, &conf.Data_Database{Driver: "mysql", Source: base}))
		})
	}
}

// isolate creates a uniquely named schema/database with create and drops it at cleanup.
func isolate(t *testing.T, driver, dsn, create, drop string) string {
	t.Helper()
	name := fmt.Sprintf("t_%d_%d", time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	admin, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(context.Background(), fmt.Sprintf(create, name)); err != nil {
		_ = admin.Close()
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), fmt.Sprintf(drop, name))
		_ = admin.Close()
	})
	return name
}

func withParam(dsn, k, v string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + k + "=" + v
}

func openTestData(t *testing.T, db *conf.Data_Database) *Data {
	t.Helper()
	d, cleanup, err := NewData(&conf.Data{Database: db}, log.DefaultLogger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return d
}

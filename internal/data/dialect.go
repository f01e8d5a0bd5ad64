package data

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// dialect is what differs between the supported databases.
type dialect struct {
	name   string // config name: sqlite, mysql, postgres
	driver string // database/sql driver name
	dollar bool   // placeholders are $1, $2 (PostgreSQL) instead of ?
}

func dialectOf(name string) (dialect, error) {
	switch name {
	case "", "sqlite":
		return dialect{name: "sqlite", driver: "sqlite"}, nil
	case "mysql":
		return dialect{name: "mysql", driver: "mysql"}, nil
	case "postgres":
		return dialect{name: "postgres", driver: "pgx", dollar: true}, nil
	}
	return dialect{}, fmt.Errorf("database driver %q is not available (available: sqlite, mysql, postgres)", name)
}

// rebind rewrites ? placeholders for the dialect.
func (d dialect) rebind(query string) string {
	if !d.dollar {
		return query
	}
	var sb strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// isUniqueViolation reports whether err is a primary-key or unique-constraint violation.
func (d dialect) isUniqueViolation(err error) bool {
	var sqliteErr *sqlite.Error
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	switch {
	case errors.As(err, &sqliteErr):
		// SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
		return sqliteErr.Code() == 1555 || sqliteErr.Code() == 2067
	case errors.As(err, &pgErr):
		return pgErr.Code == "23505" // unique_violation
	case errors.As(err, &myErr):
		return myErr.Number == 1062 // ER_DUP_ENTRY
	}
	return false
}

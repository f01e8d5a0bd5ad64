package data

import (
	"fmt"
	"strconv"
	"strings"
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
	}
	return dialect{}, fmt.Errorf("database driver %q is not available in this build (available: sqlite)", name)
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

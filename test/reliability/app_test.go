package reliability

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	rel "github.com/kratos-rocketmq/rocketmq/test/reliability"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", as the app uses

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// appSetup is the configuration of an app run as a child process: its own SQLite file,
// topic and groups, on the name server ns.
type appSetup struct {
	ns                                 string
	dir, conf, db                      string
	topic, producerGroup, confirmGroup string
	extraYAML                          string // appended to the config file (top-level keys)
}

func newAppSetup(t testing.TB, ns string) *appSetup {
	t.Helper()
	dir := t.TempDir()
	return &appSetup{
		ns: ns, dir: dir, conf: filepath.Join(dir, "config.yaml"), db: filepath.Join(dir, "app.db"),
		topic: rmqtest.Name(t, "orders"), producerGroup: rmqtest.Name(t, "pg"), confirmGroup: rmqtest.Name(t, "confirm"),
	}
}

// write writes the config file: configs/config.yaml's keys the tests change.
func (s *appSetup) write(t testing.TB) {
	t.Helper()
	conf := fmt.Sprintf(`app:
  name: order-service
  shutdown_timeout: 5s
server:
  http:
    addr: 127.0.0.1:0
  grpc:
    addr: 127.0.0.1:0
  rocketmq:
    group: %[4]s-default
    subscriptions:
      - topic: %[2]s
        handler: order-created
        group: %[4]s
        tag_expression: OrderCreated
        max_reconsume_times: 3
        consume_from: FIRST_OFFSET
data:
  rocketmq:
    name_servers: [%[1]q]
    group: %[3]s
    topic: %[2]s
    send_timeout: 3s
  database:
    driver: sqlite
    source: %[5]q
%[6]s`, s.ns, s.topic, s.producerGroup, s.confirmGroup, s.db, s.extraYAML)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

var httpListenRE = regexp.MustCompile(`\[HTTP\] server listening on: (\S+)`)

// appProc is a running app.
type appProc struct {
	*rel.Proc
	url string
}

// startApp runs cmd/app on s and waits until it serves /readyz.
func startApp(t testing.TB, s *appSetup, env ...string) *appProc {
	t.Helper()
	p := rel.StartProc(t, "app", builds.Binary(t, "../..", "./cmd/app"), env, "-conf", s.conf)
	addr := p.WaitLine(t, httpListenRE, 60*time.Second)[1]
	a := &appProc{Proc: p, url: "http://" + addr}
	poll.Until(t, 60*time.Second, "the app to be ready", func() bool {
		code, _ := httpDo("GET", a.url+"/readyz", "")
		return code == http.StatusOK
	})
	return a
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// httpDo sends one request; code 0 means no answer (connection refused, reset, timeout).
func httpDo(method, url, body string) (int, []byte) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// createOrder posts one order; it returns the order id when the app answered 200.
func createOrder(url, customer string) (string, bool) {
	code, body := httpDo("POST", url+"/v1/orders",
		fmt.Sprintf(`{"customer_id":%q,"items":[{"sku":"book","quantity":1,"unit_price_cents":1250}]}`, customer))
	if code != http.StatusOK {
		return "", false
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &o) != nil || o.ID == "" {
		return "", false
	}
	return o.ID, true
}

// openDB opens the app's SQLite file for assertions (closed at cleanup).
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// orderStatuses returns id → status of every order row.
func orderStatuses(t testing.TB, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT id, status FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

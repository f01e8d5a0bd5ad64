package reliability

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rel "github.com/kratos-rocketmq/rocketmq/test/reliability"

	"github.com/kratos-rocketmq/layout/internal/biz"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestBadInput feeds the running app (a child process) what a careless or hostile
// client sends: malformed HTTP requests must get a 4xx with a Kratos error body, and
// OrderCreated messages with a wrong schema must go to the DLQ of the confirming group
// while the app goes on confirming good orders.
func TestBadInput(t *testing.T) {
	ns := rmqtest.NameServer(t, rel.ShortDelays())
	s := newAppSetup(t, ns)
	s.write(t)
	a := startApp(t, s)

	t.Run("http", func(t *testing.T) {
		big := `{"customer_id":"` + strings.Repeat("x", 2<<20) + `"}`
		for _, tc := range []struct {
			name, method, path, body string
			code                     int
		}{
			{"syntax error", "POST", "/v1/orders", `{bad`, 400},
			{"array body", "POST", "/v1/orders", `[1,2]`, 400},
			{"wrong type", "POST", "/v1/orders", `{"customer_id":5}`, 400},
			{"no items", "POST", "/v1/orders", `{"customer_id":"c","items":[]}`, 400},
			{"negative quantity", "POST", "/v1/orders", `{"customer_id":"c","items":[{"sku":"s","quantity":-1,"unit_price_cents":1}]}`, 400},
			{"2 MiB customer id", "POST", "/v1/orders", big, 400},
			{"binary garbage", "POST", "/v1/orders", "\x00\xff\xfe\x01", 400},
			{"unknown order", "GET", "/v1/orders/nope", "", 404},
			{"page size out of range", "GET", "/v1/orders?page_size=-1", "", 400},
			{"page size not a number", "GET", "/v1/orders?page_size=abc", "", 400},
			{"unknown path", "GET", "/nope", "", 404},
			{"wrong method", "DELETE", "/v1/orders", "", 405},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := httpDo(tc.method, a.url+tc.path, tc.body)
				var e struct {
					Code    int    `json:"code"`
					Reason  string `json:"reason"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("%s %s = %d %.200q: not a Kratos error body", tc.method, tc.path, code, body)
				}
				if code != tc.code || e.Code != code || e.Reason == "" || e.Message == "" {
					t.Errorf("%s %s = %d %+v, want %d with a reason and a message", tc.method, tc.path, code, e, tc.code)
				}
			})
		}
	})

	t.Run("wrong schema to DLQ", func(t *testing.T) {
		c := rel.NewTally()
		rel.ReadDLQ(t, ns, s.confirmGroup, c)
		p := rel.NewProducer(t, ns)
		bad := map[string]string{
			"not-json":      "\x00not json",
			"wrong-type":    `{"event_id":"e1","order_id":5,"version":1}`,
			"array":         `[{"event_id":"e2"}]`,
			"no-ids":        `{"version":1}`,
			"future-schema": `{"event_id":"e3","order_id":"o3","version":99}`,
			"no-such-order": `{"event_id":"e4","order_id":"does-not-exist","version":1}`,
		}
		for k, body := range bad {
			err := p.Publish(context.Background(), s.topic, []byte(body),
				rmq.WithTag(biz.EventOrderCreated), rmq.WithKeys([]string{"bad-" + k}))
			if err != nil {
				t.Fatal(err)
			}
			c.AddSent("bad-" + k)
		}
		// A good order after them is confirmed: the bad messages block nothing.
		id, ok := createOrder(a.url, "good")
		if !ok {
			t.Fatal("POST /v1/orders failed")
		}
		c.WaitAccounted(t, time.Minute)
		db := openDB(t, s.db)
		poll.Until(t, time.Minute, "the good order to be CONFIRMED", func() bool {
			return orderStatuses(t, db)[id] == biz.StatusConfirmed.String()
		})
		t.Logf("wrong schema: %s; the good order after them CONFIRMED", c.Figures())
	})

	if code := a.Stop(t, 20*time.Second); code != 0 {
		t.Errorf("app exit code after SIGTERM = %d", code)
	}
}

// TestConfigErrorsNameTheKey starts the app with one bad key at a time: it must exit
// non-zero, before serving, with a message naming the key.
func TestConfigErrorsNameTheKey(t *testing.T) {
	ns := rmqtest.NameServer(t)
	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       []string
	}{
		{"unknown handler", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n        handler: nope\n", nil,
			[]string{"server.rocketmq.subscriptions[0].handler", "nope"}},
		{"bad consume timestamp", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n        handler: order-created\n        consume_from: TIMESTAMP\n        consume_timestamp: yesterday\n", nil,
			[]string{"server.rocketmq.subscriptions[0]", "consume_timestamp"}},
		{"unknown consume mode", "server:\n  rocketmq:\n    subscriptions:\n      - topic: t\n        consume_mode: FANOUT\n", nil,
			[]string{"server.rocketmq.subscriptions[0].consume_mode", "FANOUT"}},
		{"negative send timeout", "data:\n  rocketmq:\n    send_timeout: -1s\n", nil,
			[]string{"data.rocketmq.send_timeout"}},
		{"duration not a duration", "app:\n  shutdown_timeout: soon\n", nil,
			[]string{"app.shutdown_timeout"}},
		{"bad log level", "app:\n  log:\n    level: loud\n", nil,
			[]string{"app.log.level", "loud"}},
		{"bad env override", "", []string{"APP_SERVER_HTTP_TIMEOUT=forever"},
			[]string{"server.http.timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "config.yaml")
			base := "server:\n  http:\n    addr: 127.0.0.1:0\n  grpc:\n    addr: 127.0.0.1:0\n" +
				"data:\n  rocketmq:\n    name_servers: [" + ns + "]\n  database:\n    source: " + filepath.Join(dir, "app.db") + "\n"
			if err := os.WriteFile(conf, []byte(base), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.yaml != "" {
				// A second file in the directory overrides keys of the first.
				if err := os.WriteFile(filepath.Join(dir, "config.override.yaml"), []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p := rel.StartProc(t, "app", builds.Binary(t, "../..", "./cmd/app"), tc.env, "-conf", dir, "-profile", "override")
			code := p.Wait(t, 60*time.Second)
			out := p.Output()
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero:\n%s", out)
			}
			if httpListenRE.MatchString(out) {
				t.Errorf("the app served before failing:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}

package minirocketmq_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
)

// TestHTTPHandlerPanicAnswersInternalError: an HTTP API request whose
// handling panics (a store bug, panicStore) is answered 500 with the
// API's InternalError body, publish and consume alike, and the server goes
// on serving the next requests.
func TestHTTPHandlerPanicAnswersInternalError(t *testing.T) {
	b := startHTTP(t, minirocketmq.WithStore(newPanicStore()))
	const fine, group = "HTTPFineT", "GID_HTTPBoom"
	for _, topic := range []string{putBoomTopic, getBoomTopic, fine} {
		if err := b.CreateTopic(topic, 1); err != nil {
			t.Fatal(err)
		}
	}
	wantInternal := func(t *testing.T, r httpResp) {
		t.Helper()
		if r.status != http.StatusInternalServerError || r.code() != "InternalError" || !strings.Contains(string(r.body), "<RequestId>") {
			t.Fatalf("answer %d %s, want 500 with an InternalError body", r.status, r.body)
		}
	}

	t.Run("publish", func(t *testing.T) {
		c := newHTTPClient(t, b)
		wantInternal(t, c.publishRaw(putBoomTopic, pubMsg{Body: "boom"}))
		c.publish(fine, pubMsg{Body: "after the publish panic"})
	})
	t.Run("consume", func(t *testing.T) {
		c := newHTTPClient(t, b)
		c.publish(getBoomTopic, pubMsg{Body: "unreadable"})
		wantInternal(t, c.consume(getBoomTopic, group))
		c.publish(fine, pubMsg{Body: "after the consume panic"})
		if got := c.messages(c.consume(fine, group)); len(got) == 0 {
			t.Fatal("consume after the panic found nothing")
		}
	})
}

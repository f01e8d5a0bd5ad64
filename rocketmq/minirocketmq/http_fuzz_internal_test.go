package minirocketmq

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHTTPRequest feeds the HTTP endpoint arbitrary methods, query strings
// and bodies (publishes, consumes, acks, commits) through its handler:
// every answer must be one of the API's (a status below 500 with an XML
// body that parses, or an empty 204), never a panic (which the handler
// would answer with InternalError) or a hang.
func FuzzHTTPRequest(f *testing.F) {
	b, err := Run(WithHTTPAddr("127.0.0.1:0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = b.Close() })
	if err := b.CreateTopic("FuzzTopic", 2); err != nil {
		f.Fatal(err)
	}
	s := b.http
	seeds := []struct{ method, query, body string }{
		{http.MethodPost, "", `<Message><MessageBody>hello</MessageBody><MessageTag>t</MessageTag><Properties>KEYS:k|a:b|</Properties></Message>`},
		{http.MethodPost, "ns=INST", `<Message><MessageBody>x</MessageBody><Properties>__TransCheckT:10|</Properties></Message>`},
		{http.MethodPost, "", `<Message><MessageBody>AAEC</MessageBody><Properties>__BODYENCODING:base64|__SHARDINGKEY:g|</Properties></Message>`},
		{http.MethodPost, "", `<Message><MessageBody>x</MessageBody><Properties>__STARTDELIVERTIME:1|</Properties></Message>`},
		{http.MethodGet, "consumer=GID_f&numOfMessages=3&tag=a||b", ""},
		{http.MethodGet, "consumer=GID_f&trans=order", ""},
		{http.MethodGet, "consumer=GID_f&trans=pop", ""},
		{http.MethodDelete, "consumer=GID_f", `<ReceiptHandles><ReceiptHandle>0 1 2 0 0 broker-a 0 0 0 1</ReceiptHandle></ReceiptHandles>`},
		{http.MethodDelete, "consumer=GID_f&trans=commit", `<ReceiptHandles><ReceiptHandle>7F00000100002A9F0000000000000000:0</ReceiptHandle></ReceiptHandles>`},
		{http.MethodDelete, "consumer=GID_f&trans=rollback", `<!DOCTYPE x [<!ENTITY a "b">]><ReceiptHandles><ReceiptHandle>&a;</ReceiptHandle></ReceiptHandles>`},
	}
	for _, sd := range seeds {
		f.Add(sd.method, sd.query, sd.body)
	}
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if method != http.MethodPost && method != http.MethodGet && method != http.MethodDelete {
			method = http.MethodGet
		}
		if strings.Contains(query, "waitseconds") {
			return // a long poll would only make the fuzzer slow
		}
		req, err := http.NewRequest(method, "http://fuzz/topics/FuzzTopic/messages?"+query, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		req.RequestURI = req.URL.RequestURI()
		req.RemoteAddr = "127.0.0.1:12345"
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s ?%s %q: %d %s", method, query, body, rec.Code, rec.Body)
		case rec.Code == http.StatusNoContent:
			if rec.Body.Len() != 0 {
				t.Fatalf("204 with a body %q", rec.Body)
			}
		default:
			var any struct {
				XMLName xml.Name
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &any); err != nil {
				t.Fatalf("%s ?%s %q: answer %d is not XML: %v\n%s", method, query, body, rec.Code, err, rec.Body)
			}
		}
	})
}

// FuzzHTTPProperties: parsing a Properties element never panics, and what
// it accepts writes back to the same pairs.
func FuzzHTTPProperties(f *testing.F) {
	for _, s := range []string{"", "a:b|", "KEYS:k1 k2|x:y|", "a:b:c|", "|||", "a:|", ":b|", "a:b|a:c|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		props, why := parseHTTPProperties(s)
		if why != "" {
			return
		}
		var b strings.Builder
		for k, v := range props {
			if !appendHTTPProperty(&b, k, v) && xmlText(k) && xmlText(v) {
				t.Fatalf("accepted pair %q:%q cannot be written back", k, v)
			}
		}
		back, why := parseHTTPProperties(b.String())
		if why != "" {
			t.Fatalf("written back %q does not parse: %s", b.String(), why)
		}
		for k, v := range back {
			if props[k] != v {
				t.Fatalf("%q: %q became %q", k, props[k], v)
			}
		}
	})
}

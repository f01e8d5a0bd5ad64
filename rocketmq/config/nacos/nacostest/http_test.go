package nacostest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/kratos-rocketmq/rocketmq/config/nacos/nacostest"
)

func httpDo(t *testing.T, method, rawURL string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	base := "http://" + srv.Addr() + "/nacos/v1/cs/configs"
	form := url.Values{"dataId": {"http.yaml"}, "group": {"G"}, "content": {"a: 1\n"}}
	if code, body := httpDo(t, http.MethodPost, base, form); code != 200 || body != "true" {
		t.Fatalf("publish: %d %q", code, body)
	}
	if code, body := httpDo(t, http.MethodGet, base+"?dataId=http.yaml&group=G", nil); code != 200 || body != "a: 1\n" {
		t.Fatalf("get: %d %q", code, body)
	}
	if code, _ := httpDo(t, http.MethodDelete, base+"?dataId=http.yaml&group=G", nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := httpDo(t, http.MethodGet, base+"?dataId=http.yaml&group=G", nil); code != 404 {
		t.Fatalf("get after delete: %d, want 404", code)
	}
}

func TestOpenAPIAuth(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t, nacostest.WithAuth("nacos", "secret"))
	srv.Publish("", "", "auth.yaml", "a: 1\n")
	get := "http://" + srv.Addr() + "/nacos/v1/cs/configs?dataId=auth.yaml&group=DEFAULT_GROUP"
	if code, _ := httpDo(t, http.MethodGet, get, nil); code != 403 {
		t.Fatalf("get without a token: %d, want 403", code)
	}
	login := "http://" + srv.Addr() + "/nacos/v1/auth/users/login"
	if code, _ := httpDo(t, http.MethodPost, login, url.Values{"username": {"nacos"}, "password": {"guess"}}); code != 403 {
		t.Fatalf("login with a wrong password: %d, want 403", code)
	}
	code, body := httpDo(t, http.MethodPost, login, url.Values{"username": {"nacos"}, "password": {"secret"}})
	if code != 200 || !strings.Contains(body, `"accessToken"`) || !strings.Contains(body, `"tokenTtl":18000`) {
		t.Fatalf("login: %d %q", code, body)
	}
	token := body[strings.Index(body, `"accessToken":"`)+len(`"accessToken":"`):]
	token = token[:strings.IndexByte(token, '"')]
	if code, body := httpDo(t, http.MethodGet, get+"&accessToken="+token, nil); code != 200 || body != "a: 1\n" {
		t.Fatalf("get with a token: %d %q", code, body)
	}
}

// SearchConfig is the one call of the config client that still uses HTTP.
func TestSearchConfig(t *testing.T) {
	t.Parallel()
	srv := nacostest.RunT(t)
	for _, id := range []string{"order.yaml", "order-db.yaml", "payment.yaml"} {
		srv.Publish("", "G", id, "id: "+id+"\n")
	}
	srv.Publish("other", "G", "order-x.yaml", "elsewhere: true\n")
	c := newClient(t, srv)
	tests := []struct {
		name  string
		param vo.SearchConfigParam
		want  []string
	}{
		{name: "blur", param: vo.SearchConfigParam{Search: "blur", DataId: "order*", Group: "G"}, want: []string{"order-db.yaml", "order.yaml"}},
		{name: "accurate", param: vo.SearchConfigParam{Search: "accurate", DataId: "order.yaml", Group: "G"}, want: []string{"order.yaml"}},
		{name: "paged", param: vo.SearchConfigParam{Search: "blur", Group: "G", PageNo: 2, PageSize: 2}, want: []string{"payment.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := c.SearchConfig(tc.param)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range page.PageItems {
				got = append(got, it.DataId)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("found %v, want %v", got, tc.want)
			}
		})
	}
}

package nacostest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The HTTP port serves what nacos-sdk-go still does over HTTP in 2.x, under the context
// path /nacos:
//
//	POST   /nacos/v1/auth/users/login   username, password -> {"accessToken", "tokenTtl", ...}
//	POST   /nacos/v1/auth/login         the same (older path)
//	GET    /nacos/v1/cs/configs         search=accurate|blur: a page of configurations (SearchConfig);
//	                                    otherwise dataId, group, tenant: the content, or 404
//	POST   /nacos/v1/cs/configs         dataId, group, content, tenant, type: publish
//	DELETE /nacos/v1/cs/configs         dataId, group, tenant: delete
//
// The v1 config endpoints are the open API people use with curl; they take the access
// token as the accessToken parameter when auth is on. Not implemented: the console API,
// config history, listeners over HTTP (long polling, a 1.x client feature), naming.

const contextPath = "/nacos"

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+contextPath+"/v1/auth/users/login", s.httpLogin)
	mux.HandleFunc("POST "+contextPath+"/v1/auth/login", s.httpLogin)
	mux.HandleFunc("GET "+contextPath+"/v1/cs/configs", s.httpGetConfigs)
	mux.HandleFunc("POST "+contextPath+"/v1/cs/configs", s.httpPublishConfig)
	mux.HandleFunc("DELETE "+contextPath+"/v1/cs/configs", s.httpDeleteConfig)
	return mux
}

// httpLogin issues an access token. Without WithAuth any credentials are accepted, like a
// server with auth disabled that still answers logins.
func (s *Server) httpLogin(w http.ResponseWriter, r *http.Request) {
	user, pass := r.FormValue("username"), r.FormValue("password")
	if s.cfg.username != "" && (user != s.cfg.username || pass != s.cfg.password) {
		http.Error(w, "unknown user!", http.StatusForbidden)
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[token] = time.Now().Add(s.cfg.tokenTTL)
	s.mu.Unlock()
	writeJSON(w, map[string]any{
		"accessToken": token,
		"tokenTtl":    int64(s.cfg.tokenTTL / time.Second),
		"globalAdmin": true,
		"username":    user,
	})
}

// checkToken returns "" when token may access configurations, else the reason it may not.
func (s *Server) checkToken(token string) string {
	if s.cfg.username == "" {
		return ""
	}
	if token == "" {
		return "user not found!"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	switch {
	case !ok:
		return "token invalid!"
	case time.Now().After(exp):
		delete(s.tokens, token)
		return "token expired!"
	}
	return ""
}

func (s *Server) httpAuthorized(w http.ResponseWriter, r *http.Request) bool {
	if msg := s.checkToken(r.FormValue("accessToken")); msg != "" {
		http.Error(w, msg, http.StatusForbidden)
		return false
	}
	return true
}

// pageItem is one configuration in a search result (model.ConfigItem on the client).
type pageItem struct {
	ID      string `json:"id"`
	DataID  string `json:"dataId"`
	Group   string `json:"group"`
	Content string `json:"content"`
	MD5     string `json:"md5"`
	Tenant  string `json:"tenant"`
	AppName string `json:"appName"`
	Type    string `json:"type"`
}

func (s *Server) httpGetConfigs(w http.ResponseWriter, r *http.Request) {
	if !s.httpAuthorized(w, r) {
		return
	}
	q := r.URL.Query()
	tenant := q.Get("tenant")
	if search := q.Get("search"); search != "" {
		s.httpSearch(w, search, tenant, q.Get("dataId"), q.Get("group"), q.Get("pageNo"), q.Get("pageSize"))
		return
	}
	dataID, group := q.Get("dataId"), q.Get("group")
	if dataID == "" || group == "" {
		http.Error(w, "dataId and group are required", http.StatusBadRequest)
		return
	}
	content, ok := s.Config(tenant, group, dataID)
	if !ok {
		http.Error(w, msgNotFound, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(content))
}

// httpSearch answers SearchConfig: accurate matches dataId and group exactly, blur treats
// "*" as a wildcard; an empty dataId or group matches everything.
func (s *Server) httpSearch(w http.ResponseWriter, mode, tenant, dataID, group, pageNo, pageSize string) {
	if mode != "accurate" && mode != "blur" {
		http.Error(w, "search must be accurate or blur", http.StatusBadRequest)
		return
	}
	no, _ := strconv.Atoi(pageNo)
	size, _ := strconv.Atoi(pageSize)
	no, size = max(no, 1), max(size, 1)
	matchData, matchGroup := matcher(mode, dataID), matcher(mode, group)
	ns := newKey(tenant, "", "").namespace
	s.mu.Lock()
	var items []pageItem
	for k, it := range s.configs {
		if k.namespace == ns && matchData(k.dataID) && matchGroup(k.group) {
			items = append(items, pageItem{DataID: k.dataID, Group: k.group, Content: it.content, MD5: it.md5,
				Tenant: tenant, Type: it.typ})
		}
	}
	s.mu.Unlock()
	sort.Slice(items, func(i, j int) bool {
		if items[i].Group != items[j].Group {
			return items[i].Group < items[j].Group
		}
		return items[i].DataID < items[j].DataID
	})
	for i := range items {
		items[i].ID = strconv.Itoa(i + 1)
	}
	total := len(items)
	from, to := min((no-1)*size, total), min(no*size, total)
	writeJSON(w, map[string]any{
		"totalCount":     total,
		"pageNumber":     no,
		"pagesAvailable": (total + size - 1) / size,
		"pageItems":      items[from:to],
	})
}

func matcher(mode, pattern string) func(string) bool {
	switch {
	case pattern == "":
		return func(string) bool { return true }
	case mode == "accurate":
		return func(v string) bool { return v == pattern }
	}
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
	return re.MatchString
}

func (s *Server) httpPublishConfig(w http.ResponseWriter, r *http.Request) {
	if !s.httpAuthorized(w, r) {
		return
	}
	dataID, group, content := r.FormValue("dataId"), r.FormValue("group"), r.FormValue("content")
	if dataID == "" || group == "" || content == "" {
		http.Error(w, "dataId, group and content are required", http.StatusBadRequest)
		return
	}
	typ := r.FormValue("type")
	if typ == "" {
		typ = typeOf(dataID)
	}
	k := newKey(r.FormValue("tenant"), group, dataID)
	s.mu.Lock()
	var ls []listener
	if s.put(k, content, typ) {
		ls = s.listenersOf(k)
	}
	s.mu.Unlock()
	s.notify(k, ls)
	_, _ = w.Write([]byte("true"))
}

func (s *Server) httpDeleteConfig(w http.ResponseWriter, r *http.Request) {
	if !s.httpAuthorized(w, r) {
		return
	}
	dataID, group := r.FormValue("dataId"), r.FormValue("group")
	if dataID == "" || group == "" {
		http.Error(w, "dataId and group are required", http.StatusBadRequest)
		return
	}
	s.Delete(r.FormValue("tenant"), group, dataID)
	_, _ = w.Write([]byte("true"))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

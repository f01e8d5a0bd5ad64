package nacostest

import (
	"crypto/md5"
	"encoding/hex"
	"time"
)

// DefaultGroup is the group Nacos clients use when none is given.
const DefaultGroup = "DEFAULT_GROUP"

// configKey identifies a configuration. The namespace is normalised: "" and "public" are the
// same namespace, as on the real server.
type configKey struct {
	namespace, group, dataID string
}

func newKey(namespace, group, dataID string) configKey {
	if namespace == "public" {
		namespace = ""
	}
	return configKey{namespace: namespace, group: group, dataID: dataID}
}

// item is one stored configuration.
type item struct {
	content      string
	md5          string
	typ          string // text, yaml, json, ... as published; text when unknown
	lastModified time.Time
}

// contentMD5 is the MD5 the server and the clients compare: lower-case hex of the UTF-8 bytes.
func contentMD5(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// configTypes are the types the real server accepts for a published configuration
// (com.alibaba.nacos.api.config.ConfigType); anything else is stored as text.
var configTypes = map[string]bool{
	"text": true, "json": true, "xml": true, "yaml": true, "html": true, "properties": true, "toml": true,
}

// put stores content under k and reports whether the content changed (a new MD5): only a
// change notifies listeners, as on the real server. Callers hold s.mu.
func (s *Server) put(k configKey, content, typ string) bool {
	if !configTypes[typ] {
		typ = "text"
	}
	sum := contentMD5(content)
	old, existed := s.configs[k]
	s.configs[k] = &item{content: content, md5: sum, typ: typ, lastModified: time.Now()}
	return !existed || old.md5 != sum
}

// remove deletes k and reports whether it existed. Callers hold s.mu.
func (s *Server) remove(k configKey) bool {
	_, ok := s.configs[k]
	delete(s.configs, k)
	return ok
}

// serverMD5 is the MD5 of k's content, "" when k does not exist. Callers hold s.mu.
func (s *Server) serverMD5(k configKey) string {
	if it, ok := s.configs[k]; ok {
		return it.md5
	}
	return ""
}

// listener is a connection listening to a configuration, with the namespace spelled the
// way the client spelled it: pushes echo that spelling back, because the Go client looks
// its cache up by the exact string ("public" and "" differ there).
type listener struct {
	connID string
	tenant string
}

// addListener registers connID for k. Callers hold s.mu.
func (s *Server) addListener(k configKey, connID, tenant string) {
	m := s.listeners[k]
	if m == nil {
		m = make(map[string]string)
		s.listeners[k] = m
	}
	m[connID] = tenant
}

// removeListener unregisters connID for k. Callers hold s.mu.
func (s *Server) removeListener(k configKey, connID string) {
	if m := s.listeners[k]; m != nil {
		delete(m, connID)
		if len(m) == 0 {
			delete(s.listeners, k)
		}
	}
}

// listenersOf returns who listens to k. Callers hold s.mu.
func (s *Server) listenersOf(k configKey) []listener {
	m := s.listeners[k]
	out := make([]listener, 0, len(m))
	for id, tenant := range m {
		out = append(out, listener{connID: id, tenant: tenant})
	}
	return out
}

// Package acl checks requests against a RocketMQ plain_acl.yml, the way the
// real broker's PlainAccessValidator does: the client's HMAC-SHA1 signature
// over its header fields and body, white addresses, admin request codes,
// and PUB/SUB permissions on the topics and groups a request names, with
// the real broker's error remarks.
//
//	v, err := acl.Load("conf/plain_acl.yml")
//	b, err := minirocketmq.New(minirocketmq.WithACL(v))
//
// The broker answers a refused request with SYSTEM_ERROR and Denied.Remark
// (the Go client reports "CODE: 1  DESC: ..."), before the request's
// handler runs: a refused send stores nothing. Only the broker listener is
// checked; the real name server does not check ACL either.
//
// Secret keys are kept in memory only: Account's String and GoString hide
// them, and no remark contains one.
package acl

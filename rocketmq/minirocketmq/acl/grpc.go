package acl

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Access is the permission a gRPC request needs on a resource.
type Access int

// The permissions of GRPCResource.
const (
	AccessPub      Access = iota + 1 // publish to a topic
	AccessSub                        // consume a topic, or as a consumer group
	AccessPubOrSub                   // either (QueryRoute: Permission.ANY)
)

func (a Access) perm() perm {
	switch a {
	case AccessPub:
		return permPub
	case AccessSub:
		return permSub
	}
	return permAny
}

// GRPCResource is a topic, or a consumer group (Group), that a gRPC request
// of the RocketMQ 5 protocol needs a permission on (PlainAccessResource.
// parse of 5.x for gRPC requests: sends PUB on the topic, receives, acks
// and the like SUB on the group and the topic, route queries any
// permission on the topic, ...).
type GRPCResource struct {
	Name   string
	Group  bool
	Access Access
}

// GRPCCredentials are what a gRPC request carries for ACL: the
// "authorization" and "x-mq-date-time" metadata.
type GRPCCredentials struct {
	// Authorization is the v5 signature header:
	// "MQv2-HMAC-SHA1 Credential=<accessKey>/..., SignedHeaders=x-mq-date-time, Signature=<hex>".
	Authorization string
	// DateTime is the signed content (x-mq-date-time, e.g. 20260101T120000Z).
	DateTime string
}

// AccessKey returns the access key of the authorization header, "" when
// there is none or it cannot be parsed.
func (c GRPCCredentials) AccessKey() string {
	ak, _, _ := parseAuthorization(c.Authorization)
	return ak
}

// CheckGRPC decides on a gRPC request from remote, as Check does for
// remoting requests and the 5.x proxy's plain ACL did for gRPC ones: a
// global white address passes; no authorization → "No accessKey is
// configured"; an unknown access key → "No acl config for <key>"; the
// account's white address passes; the signature must be the hex HMAC-SHA1
// of DateTime with the account's secret key → "Check signature failed for
// accessKey=<key>"; then every resource needs its permission, from the
// account's topicPerms/groupPerms or else its defaults → "No default
// permission for topic:<t>" or "group:<g>". A refusal is a *Denied whose
// Remark is the AclException's message (no Java stack frame).
func (v *Validator) CheckGRPC(cred GRPCCredentials, remote netip.Addr, resources []GRPCResource) error {
	remote = remote.Unmap()
	if v.globalWhite(remote) {
		return nil
	}
	if strings.TrimSpace(cred.Authorization) == "" {
		return deny("No accessKey is configured")
	}
	ak, sig, err := parseAuthorization(cred.Authorization)
	if err != nil {
		return deny("%v", err)
	}
	if cred.DateTime == "" {
		return deny("datetime is null.")
	}
	if reason, remark := v.checkSigned(remote, ak, sig, cred.DateTime, resources); reason != 0 {
		return deny("%s", remark)
	}
	return nil
}

// globalWhite reports whether remote passes by a global white address.
func (v *Validator) globalWhite(remote netip.Addr) bool {
	for _, w := range v.global {
		if w.match(remote) {
			return true
		}
	}
	return false
}

// checkSigned decides, once a request's access key ak and signature sig are
// read, in the order both 5.x signature schemes share: ak must name an
// account; the account's white address passes; sig must be the HMAC-SHA1 of
// content with the account's secret key; every resource needs its
// permission. It returns 0 when the request passes, else why not and the
// AclException's message.
func (v *Validator) checkSigned(remote netip.Addr, ak string, sig []byte, content string, resources []GRPCResource) (HTTPReason, string) {
	acc := v.accounts[ak]
	if acc == nil {
		return HTTPUnknownAccessKey, "No acl config for " + ak
	}
	if acc.white.match(remote) {
		return 0, ""
	}
	mac := hmac.New(sha1.New, []byte(acc.secretKey))
	mac.Write([]byte(content))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return HTTPBadSignature, "Check signature failed for accessKey=" + ak
	}
	if name, ok := acc.denied(resources); !ok {
		return HTTPNoPermission, "No default permission for " + name
	}
	return 0, ""
}

func deny(format string, args ...any) *Denied {
	return &Denied{Remark: fmt.Sprintf(format, args...)}
}

// parseAuthorization reads "<scheme> Credential=<ak>/..., ..., Signature=<hex>"
// as DefaultAuthenticationContextBuilder does: the access key is the first
// "/"-separated part of Credential, the signature hex-encoded.
func parseAuthorization(h string) (accessKey string, signature []byte, err error) {
	_, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", nil, errors.New("authentication header is incorrect.")
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return "", nil, errors.New("authentication keyValues length is incorrect, actual length=1.")
		}
		switch k {
		case "Credential":
			accessKey, _, _ = strings.Cut(v, "/")
		case "Signature":
			if signature, err = hex.DecodeString(v); err != nil {
				return "", nil, errors.New("create authentication context error.")
			}
		}
	}
	if accessKey == "" {
		return "", nil, errors.New("No accessKey is configured")
	}
	return accessKey, signature, nil
}

// SignGRPC returns the authorization header value a RocketMQ 5 client
// sends for dateTime (what rocketmq-clients' Go Sign computes), for tests
// and clients of this module.
func SignGRPC(accessKey, secretKey, dateTime string) string {
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(dateTime))
	return fmt.Sprintf("MQv2-HMAC-SHA1 Credential=%s//Rocketmq, SignedHeaders=x-mq-date-time, Signature=%s",
		accessKey, hex.EncodeToString(mac.Sum(nil)))
}

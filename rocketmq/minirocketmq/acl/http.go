package acl

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
)

// HTTPCredentials are what a request of Aliyun's MQ HTTP API carries for
// access control.
type HTTPCredentials struct {
	// Authorization is the header "MQ <accessKey>:<signature>", the
	// signature being the base64 HMAC-SHA1 of StringToSign.
	Authorization string
	// StringToSign is what the client signed, rebuilt by the server from
	// the request: method, Content-MD5, Content-Type, Date, the x-mq-*
	// headers and the resource (see the endpoint's doc).
	StringToSign string
}

// HTTPReason says why CheckHTTP refused a request; the HTTP endpoint maps
// each to one of the API's error codes.
type HTTPReason int

// The reasons of HTTPDenied.
const (
	HTTPMissingAuthorization HTTPReason = iota + 1 // no Authorization header
	HTTPInvalidAuthorization                       // not "MQ <accessKey>:<base64 signature>"
	HTTPUnknownAccessKey                           // no account with that access key
	HTTPBadSignature                               // the signature is not the account's
	HTTPNoPermission                               // a resource lacks the permission
)

// HTTPDenied is the error CheckHTTP returns for a refused request. Remark
// says what was refused (never a secret key).
type HTTPDenied struct {
	Reason HTTPReason
	Remark string
}

func (d *HTTPDenied) Error() string { return d.Remark }

// CheckHTTP decides on a request of the HTTP API from remote, in the order
// of CheckGRPC: a global white address passes; then the Authorization
// header must name an account; the account's white address passes; the
// signature must be the base64 HMAC-SHA1 of cred.StringToSign with the
// account's secret key; then every resource needs its permission from the
// account's topicPerms/groupPerms or else its defaults. A refusal is an
// *HTTPDenied.
func (v *Validator) CheckHTTP(cred HTTPCredentials, remote netip.Addr, resources []GRPCResource) error {
	remote = remote.Unmap()
	if v.globalWhite(remote) {
		return nil
	}
	if strings.TrimSpace(cred.Authorization) == "" {
		return &HTTPDenied{HTTPMissingAuthorization, "Authorization header is required."}
	}
	ak, sig, err := ParseHTTPAuthorization(cred.Authorization)
	if err != nil {
		return &HTTPDenied{HTTPInvalidAuthorization, err.Error()}
	}
	if reason, remark := v.checkSigned(remote, ak, sig, cred.StringToSign, resources); reason != 0 {
		return &HTTPDenied{reason, remark}
	}
	return nil
}

// denied returns the first resource acc lacks the permission for (printed
// as the AclException names it) and false, or true when every one is
// allowed.
func (acc *account) denied(resources []GRPCResource) (string, bool) {
	if acc.resources == nil && acc.admin {
		return "", true
	}
	for _, r := range resources {
		name := r.Name
		if r.Group {
			name = retryPrefix + r.Name
		}
		owned, listed := acc.resources[name]
		if !listed {
			owned = acc.defaultTopic
			if r.Group {
				owned = acc.defaultGroup
			}
		}
		if !owned.allows(r.Access.perm()) {
			return printResource(name, r.Group), false
		}
	}
	return "", true
}

// ParseHTTPAuthorization reads the Authorization header of the HTTP API,
// "MQ <accessKey>:<base64 signature>".
func ParseHTTPAuthorization(h string) (accessKey string, signature []byte, err error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || scheme != "MQ" {
		return "", nil, errors.New("The Authorization header format is invalid.")
	}
	ak, sig, ok := strings.Cut(strings.TrimSpace(rest), ":")
	if !ok || ak == "" || sig == "" {
		return "", nil, errors.New("The Authorization header format is invalid.")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "", nil, errors.New("The Authorization header format is invalid.")
	}
	return ak, raw, nil
}

// SignHTTP returns the Authorization header an HTTP API client sends for
// stringToSign (what aliyunmq/mq-http-go-sdk's MQCredential.Signature and
// authorization compute), for tests and clients of this module.
func SignHTTP(accessKey, secretKey, stringToSign string) string {
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(stringToSign))
	return "MQ " + accessKey + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

package acl_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
)

// FuzzCheckGRPC: authorization headers come from the network; any header
// is refused or accepted without a panic, and only the right signature is
// accepted.
func FuzzCheckGRPC(f *testing.F) {
	v, err := acl.New(acl.Config{Accounts: []acl.Account{{AccessKey: "app-client", SecretKey: "app-secret-1", DefaultTopicPerm: "PUB|SUB", DefaultGroupPerm: "SUB"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(acl.SignGRPC("app-client", "app-secret-1", "20260101T000000Z"), "20260101T000000Z")
	f.Add("MQv2-HMAC-SHA1 Credential=app-client//Rocketmq, SignedHeaders=x-mq-date-time, Signature=zz", "x")
	f.Add("MQv2-HMAC-SHA1", "")
	f.Add("a b=c,d", "1")
	f.Fuzz(func(t *testing.T, authorization, dateTime string) {
		err := v.CheckGRPC(acl.GRPCCredentials{Authorization: authorization, DateTime: dateTime}, netip.MustParseAddr("10.0.0.1"),
			[]acl.GRPCResource{{Name: "T", Access: acl.AccessPub}})
		if err == nil && !signs(authorization, dateTime) {
			t.Fatalf("accepted %q for %q", authorization, dateTime)
		}
	})
}

// signs reports whether header carries the right signature (hex, in any
// case): nothing else may be accepted.
func signs(header, dateTime string) bool {
	want := acl.SignGRPC("app-client", "app-secret-1", dateTime)
	return strings.Contains(strings.ToLower(header), want[len(want)-40:])
}

package acl

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// The plain_acl.yml shipped with RocketMQ 4.9.4 (distribution/conf), plus
// an account of ours.
const sample = `
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
`

var local = netip.MustParseAddr("127.0.0.1")

// signed returns a request signed like the Go client (values sorted by
// field name, then the body).
func signed(code int16, ak, sk string, body string, kv ...string) *remoting.Command {
	req := remoting.NewRequest(code, kv...)
	req.Body = []byte(body)
	req.Set(fieldAccessKey, ak)
	req.Set(fieldSignature, Sign(req, sk, false))
	return req
}

func TestSignKnownVectors(t *testing.T) {
	// Computed with Python's hmac module: HMAC-SHA1("12345678", "akT" + "hi").
	req := remoting.NewRequest(10, "topic", "T", fieldAccessKey, "ak")
	req.Body = []byte("hi")
	if got := Sign(req, "12345678", false); got != "NZWCHc+cSGyXQcAbt6dEC+0Ld4M=" {
		t.Fatalf("Sign = %s", got)
	}
	// The Java client signs SecurityToken too ("ak" "tok" "T" "hi"); the
	// Go client does not.
	req.Set(fieldSecurityToken, "tok")
	if got := Sign(req, "12345678", false); got != "cJRIeH9YJgzx8I8R4JenEkQAWVs=" {
		t.Fatalf("Sign with token = %s", got)
	}
	if got := Sign(req, "12345678", true); got != "NZWCHc+cSGyXQcAbt6dEC+0Ld4M=" {
		t.Fatalf("Sign without token = %s", got)
	}
}

func TestCheck(t *testing.T) {
	v, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	const frame = ", org.apache.rocketmq.acl.plain.PlainPermissionManager."
	tests := []struct {
		name   string
		req    *remoting.Command
		remote string
		remark string // "" allowed
	}{
		{"pub on topicB", signed(10, "RocketMQ", "12345678", "x", "topic", "topicB"), "", ""},
		{"pub on topicC (SUB only)", signed(10, "RocketMQ", "12345678", "x", "topic", "topicC"), "",
			"org.apache.rocketmq.acl.common.AclException: No default permission for topic:topicC" + frame + "checkPerm(PlainPermissionManager.java:610)"},
		{"pub on an unlisted topic (default DENY)", signed(10, "RocketMQ", "12345678", "x", "topic", "other"), "",
			"org.apache.rocketmq.acl.common.AclException: No default permission for topic:other" + frame + "checkPerm(PlainPermissionManager.java:605)"},
		{"wrong secret", signed(10, "RocketMQ", "87654321", "x", "topic", "topicB"), "",
			"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=RocketMQ" + frame + "validate(PlainPermissionManager.java:683)"},
		{"body changed after signing", func() *remoting.Command {
			r := signed(10, "RocketMQ", "12345678", "x", "topic", "topicB")
			r.Body = []byte("y")
			return r
		}(), "", "org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=RocketMQ" + frame + "validate(PlainPermissionManager.java:683)"},
		{"no signature", remoting.NewRequest(10, "topic", "topicB", "AccessKey", "RocketMQ"), "",
			"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=RocketMQ" + frame + "validate(PlainPermissionManager.java:683)"},
		{"no access key", remoting.NewRequest(10, "topic", "topicB"), "",
			"org.apache.rocketmq.acl.common.AclException: No accessKey is configured" + frame + "validate(PlainPermissionManager.java:663)"},
		{"unknown access key", signed(10, "nobody-here", "12345678", "x", "topic", "topicB"), "",
			"org.apache.rocketmq.acl.common.AclException: No acl config for nobody-here" + frame + "validate(PlainPermissionManager.java:667)"},
		{"global white address", remoting.NewRequest(10, "topic", "topicA"), "192.168.0.7", ""},
		{"account white address skips the signature", remoting.NewRequest(10, "topic", "x", "AccessKey", "rocketmq2"), "192.168.1.20", ""},
		{"admin outside its white address must sign", remoting.NewRequest(10, "topic", "x", "AccessKey", "rocketmq2"), "192.168.2.20",
			"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=rocketmq2" + frame + "validate(PlainPermissionManager.java:683)"},
		{"admin without resource perms may do anything", signed(17, "rocketmq2", "12345678", "", "topic", "new"), "", ""},
		{"create topic needs admin", signed(17, "RocketMQ", "12345678", "", "topic", "new"), "",
			"org.apache.rocketmq.acl.common.AclException: Need admin permission for request code=17, but accessKey=RocketMQ is not" + frame + "checkPerm(PlainPermissionManager.java:580)"},
		{"pull: topic SUB and group SUB", signed(11, "RocketMQ", "12345678", "", "topic", "topicC", "consumerGroup", "groupC"), "", ""},
		{"pull: group DENY", signed(11, "RocketMQ", "12345678", "", "topic", "topicC", "consumerGroup", "groupA"), "",
			"org.apache.rocketmq.acl.common.AclException: No default permission for group:groupA" + frame + "checkPerm(PlainPermissionManager.java:610)"},
		{"pull: unlisted group (default SUB)", signed(11, "RocketMQ", "12345678", "", "topic", "topicB", "consumerGroup", "anyGroup"), "", ""},
		{"heartbeat of a denied group", signed(34, "RocketMQ", "12345678",
			`{"clientID":"c","consumerDataSet":[{"groupName":"groupA","subscriptionDataSet":[{"topic":"topicB"}]}]}`), "",
			"org.apache.rocketmq.acl.common.AclException: No default permission for group:groupA" + frame + "checkPerm(PlainPermissionManager.java:610)"},
		{"heartbeat of a producer only", signed(34, "RocketMQ", "12345678", `{"clientID":"c","producerDataSet":[{"groupName":"pg"}]}`), "", ""},
		{"malformed heartbeat fails even from a white address", remoting.NewRequest(34), "192.168.0.1",
			"org.apache.rocketmq.acl.common.AclException: unexpected end of JSON input, org.apache.rocketmq.acl.plain.PlainAccessValidator.parse(PlainAccessValidator.java:134)"},
		{"offset update needs its fields", signed(15, "RocketMQ", "12345678", "", "consumerGroup", "groupC"), "",
			"org.apache.rocketmq.acl.common.AclException: the custom field <topic> is null, org.apache.rocketmq.acl.plain.PlainAccessValidator.parse(PlainAccessValidator.java:134)"},
		{"trace topic sends pass", signed(10, "RocketMQ", "12345678", "x", "topic", "RMQ_SYS_TRACE_TOPIC"), "", ""},
		{"batch sends are not checked for the topic (as 4.9.4)", signed(320, "RocketMQ", "12345678", "x", "b", "topicA"), "", ""},
		{"send-as-normal to %RETRY% names no resource (as 4.9.4)", signed(10, "RocketMQ", "12345678", "x", "topic", "%RETRY%groupA"), "", ""},
		{"V2 send to %RETRY% checks the producer group", signed(310, "RocketMQ", "12345678", "x", "b", "%RETRY%x", "a", "groupA"), "",
			"org.apache.rocketmq.acl.common.AclException: No default permission for group:groupA" + frame + "checkPerm(PlainPermissionManager.java:610)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			remote := local
			if tc.remote != "" {
				remote = netip.MustParseAddr(tc.remote)
			}
			err := v.Check(tc.req, remote)
			if tc.remark == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var d *Denied
			if !errors.As(err, &d) || d.Remark != tc.remark {
				t.Fatalf("got %v\nwant %s", err, tc.remark)
			}
		})
	}
}

// TestGoSecurityToken: the Go client sends SecurityToken without signing
// it; the Java client signs it. Both are accepted.
func TestGoSecurityToken(t *testing.T) {
	v, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, withoutToken := range []bool{true, false} {
		req := remoting.NewRequest(10, "topic", "topicB", fieldAccessKey, "RocketMQ", fieldSecurityToken, "sts-token")
		req.Set(fieldSignature, Sign(req, "12345678", withoutToken))
		if err := v.Check(req, local); err != nil {
			t.Fatalf("token signed=%v: %v", !withoutToken, err)
		}
	}
}

// TestResourceOrder: with several refusals the first one reported is the
// real broker's, which walks a java.util.HashMap. Expected orders printed by
// Java 17 for the same keys.
func TestResourceOrder(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"TopicA,%RETRY%GroupA", "TopicA,%RETRY%GroupA"},
		{"orders,%RETRY%order-service,payments,audit,%RETRY%x", "%RETRY%order-service,audit,payments,%RETRY%x,orders"},
		{"t0,t1,t2,t3,t4,t5,t6,t7,t8,t9,t10,t11,t12,t13", "t4,t5,t6,t7,t8,t9,t10,t12,t11,t13,t0,t1,t2,t3"},
	} {
		var list []resource
		for _, n := range strings.Split(tc.in, ",") {
			list = append(list, resource{n, permSub})
		}
		var got []string
		for _, r := range javaHashMapOrder(list) {
			got = append(got, r.name)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("order of %s: %s, want %s", tc.in, strings.Join(got, ","), tc.want)
		}
	}
}

func TestAddrPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		addr    string
		want    bool
	}{
		{"", "1.2.3.4", false},
		{"*", "1.2.3.4", true},
		{"*.*.*.*", "::1", true},
		{"192.168.0.1", "192.168.0.1", true},
		{"192.168.0.1", "192.168.0.2", false},
		{"192.168.0.1,192.168.0.2", "192.168.0.2", true},
		{"192.168.1.{1,2,3}", "192.168.1.3", true},
		{"192.168.1.{1,2,3}", "192.168.1.4", false},
		{"192.168.*.*", "192.168.200.1", true},
		{"192.168.*.*", "192.169.0.1", false},
		{"192.168.1.*", "192.168.1.255", true},
		{"192.168.1.1-100", "192.168.1.100", true},
		{"192.168.1.1-100", "192.168.1.101", false},
		{"192.168.1-5.9", "192.168.3.77", true}, // the groups after the range are not looked at (as 4.9.4)
		{"::1", "::1", true},
		{"1050:0000:0000:0000:0005:0600:300c:326b", "1050::5:600:300c:326b", true},
		{"1050::5:600:300c:*", "1050::5:600:300c:1", true},
		{"1050::5:600:300c:1-ff", "1050::5:600:300c:100", false},
		{"192.168.1.*", "::ffff:192.168.1.5", true},
	}
	for _, tc := range tests {
		m, err := parseAddrPattern(tc.pattern)
		if err != nil {
			t.Errorf("pattern %q: %v", tc.pattern, err)
			continue
		}
		if got := m.match(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("%q matches %s = %v, want %v", tc.pattern, tc.addr, got, tc.want)
		}
	}
	for _, bad := range []string{"192.168.1", "300.1.1.1", "192.168.1.5-1", "192.168.1.-5", "a.b.c.d", "*.1.1.1"} {
		if _, err := parseAddrPattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"short key", "accounts:\n  - accessKey: short\n    secretKey: 12345678\n", "length should longer than 6"},
		{"short secret", "accounts:\n  - accessKey: longenough\n    secretKey: 123\n", "length should longer than 6"},
		{"bad resource", "accounts:\n  - accessKey: longenough\n    secretKey: 12345678\n    topicPerms: [topicA]\n", "Parse resource permission failed for topic:topicA"},
		{"bad white address", "accounts:\n  - accessKey: longenough\n    secretKey: 12345678\n    whiteRemoteAddress: 1.2.3\n", "whiteRemoteAddress"},
		{"bad YAML", "accounts: [", "parse YAML"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestSecretsNotPrinted: printing a configuration hides the secret keys.
func TestSecretsNotPrinted(t *testing.T) {
	cfg := Config{Accounts: []Account{{AccessKey: "visible-key", SecretKey: "very-secret-value"}}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, cfg); strings.Contains(out, "very-secret-value") || !strings.Contains(out, "visible-key") {
			t.Errorf("%s prints %s", verb, out)
		}
	}
}

package acl

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Validator checks requests against a plain ACL configuration, as the real
// broker's PlainAccessValidator does. It is immutable and safe for
// concurrent use.
type Validator struct {
	global   []addrMatcher
	accounts map[string]*account
}

// Denied is the error Check returns for a refused request. Remark is what
// the real broker puts in its SYSTEM_ERROR response: the AclException and
// the stack frame that threw it, e.g. "org.apache.rocketmq.acl.common.
// AclException: Check signature failed for accessKey=rocketmq2,
// org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(
// PlainPermissionManager.java:683)". It never contains a secret key.
type Denied struct {
	Remark string
}

func (d *Denied) Error() string { return d.Remark }

// Request header fields the check reads.
const (
	fieldAccessKey     = "AccessKey"
	fieldSignature     = "Signature"
	fieldSecurityToken = "SecurityToken"
	fieldUniqueQuery   = "_UNIQUE_KEY_QUERY" // MixAll.UNIQUE_MSG_QUERY_FLAG, not signed
	traceTopic         = "RMQ_SYS_TRACE_TOPIC"
)

// Where the real broker (4.9.4 binaries) throws each AclException: the
// remark ends with this stack frame.
const (
	aclException   = "org.apache.rocketmq.acl.common.AclException: "
	frameValidate  = ", org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:%d)"
	frameCheckPerm = ", org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:%d)"
	frameParse     = ", org.apache.rocketmq.acl.plain.PlainAccessValidator.parse(PlainAccessValidator.java:134)"

	lineNoAccessKey  = 663
	lineNoAclConfig  = 667
	lineSignature    = 683
	lineNeedAdmin    = 580
	lineDefaultPerm  = 605
	lineResourcePerm = 610
)

func denyValidate(line int, format string, args ...any) *Denied {
	return &Denied{aclException + fmt.Sprintf(format, args...) + fmt.Sprintf(frameValidate, line)}
}

func denyCheckPerm(line int, format string, args ...any) *Denied {
	return &Denied{aclException + fmt.Sprintf(format, args...) + fmt.Sprintf(frameCheckPerm, line)}
}

// adminCodes are the request codes that need an admin account
// (Permission.ADMIN_CODE), plus the name server's mutating codes (the real
// name server checks no ACL at all; see NameServerMutation).
func adminCode(code int16) bool {
	switch code {
	case 17, 25, 200, 207, 215: // UPDATE_AND_CREATE_TOPIC, UPDATE_BROKER_CONFIG, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, DELETE_SUBSCRIPTIONGROUP, DELETE_TOPIC_IN_BROKER
		return true
	}
	return NameServerMutation(code)
}

// NameServerMutation reports whether a name server request code changes
// the name server's state: DELETE_TOPIC_IN_NAMESRV, PUT_KV_CONFIG,
// DELETE_KV_CONFIG, REGISTER_BROKER, UNREGISTER_BROKER,
// WIPE_WRITE_PERM_OF_BROKER, UPDATE_NAMESRV_CONFIG,
// ADD_WRITE_PERM_OF_BROKER. Where ACL is on, those need the signature of
// an admin account (the real 4.9 name server checks nothing, so anybody who
// reaches it can drop any route).
func NameServerMutation(code int16) bool {
	switch code {
	case 216, 100, 102, 103, 104, 205, 318, 327:
		return true
	}
	return false
}

// Check decides on one request that arrived at the broker from remote: nil
// lets it through, a *Denied refuses it. In the real broker's order:
//
//  1. a global white address passes;
//  2. no AccessKey → "No accessKey is configured"; an unknown one → "No
//     acl config for <key>";
//  3. the account's white address passes;
//  4. the signature: HMAC-SHA1 with the secret key over the values of every
//     header field but Signature (and _UNIQUE_KEY_QUERY), sorted by field
//     name, then the body, base64 → "Check signature failed for
//     accessKey=<key>". The Go client leaves SecurityToken out of what it
//     signs (the Java client and broker put it in); such a signature is
//     accepted too, where the real broker refuses it;
//  5. a send to RMQ_SYS_TRACE_TOPIC passes;
//  6. admin request codes need an admin account; then each resource the
//     request names (parseResources) needs its permission, from the
//     account's topicPerms/groupPerms or else its default → "No default
//     permission for topic:<t>" or "group:<g>".
func (v *Validator) Check(req *remoting.Command, remote netip.Addr) error {
	// The real broker parses the request first: a malformed one fails
	// even from a white address.
	needed, err := parseResources(req)
	if err != nil {
		return err
	}
	remote = remote.Unmap()
	if v.globalWhite(remote) {
		return nil
	}
	ak, ok := req.Lookup(fieldAccessKey)
	if !ok {
		return denyValidate(lineNoAccessKey, "No accessKey is configured")
	}
	acc := v.accounts[ak]
	if acc == nil {
		return denyValidate(lineNoAclConfig, "No acl config for %s", ak)
	}
	if acc.white.match(remote) {
		return nil
	}
	if !signatureOK(req, acc.secretKey) {
		return denyValidate(lineSignature, "Check signature failed for accessKey=%s", ak)
	}
	for _, r := range needed {
		if r.name == traceTopic && r.perm == permPub {
			return nil
		}
	}
	if adminCode(req.Code) && !acc.admin {
		return denyCheckPerm(lineNeedAdmin, "Need admin permission for request code=%d, but accessKey=%s is not", req.Code, ak)
	}
	if len(needed) == 0 || (acc.resources == nil && acc.admin) {
		return nil
	}
	for _, r := range needed {
		group := strings.HasPrefix(r.name, retryPrefix)
		owned, listed := acc.resources[r.name]
		line := lineResourcePerm
		if !listed {
			owned, line = acc.defaultTopic, lineDefaultPerm
			if group {
				owned = acc.defaultGroup
			}
		}
		if !owned.allows(r.perm) {
			return denyCheckPerm(line, "No default permission for %s", printResource(r.name, group))
		}
	}
	return nil
}

// printResource is PlainAccessResource.printStr.
func printResource(name string, group bool) string {
	if group {
		return "group:" + strings.TrimPrefix(name, retryPrefix)
	}
	return "topic:" + name
}

// signatureOK checks the Signature header: over every field (as the Java
// client signs), or, when a SecurityToken is present, also over every field
// but that one (as the Go client signs).
func signatureOK(req *remoting.Command, secret string) bool {
	got, ok := req.Lookup(fieldSignature)
	if !ok {
		return false
	}
	if hmac.Equal([]byte(got), []byte(Sign(req, secret, false))) {
		return true
	}
	if _, ok := req.Lookup(fieldSecurityToken); ok {
		return hmac.Equal([]byte(got), []byte(Sign(req, secret, true)))
	}
	return false
}

// Sign returns the signature of req with secret as AclClientRPCHook and the
// broker compute it: HMAC-SHA1 over the values of the header fields other
// than Signature and _UNIQUE_KEY_QUERY, sorted by field name, followed by
// the body; standard base64. withoutToken leaves SecurityToken out, as the
// Go client does. Clients in tests use it to sign hand-made requests.
func Sign(req *remoting.Command, secret string, withoutToken bool) string {
	fields := make(map[string]string, len(req.Ext))
	for _, f := range req.Ext {
		switch {
		case f.Key == fieldSignature, f.Key == fieldUniqueQuery, withoutToken && f.Key == fieldSecurityToken:
			continue
		}
		fields[f.Key] = f.Value
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(secret))
	for _, k := range keys {
		mac.Write([]byte(fields[k]))
	}
	mac.Write(req.Body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// resource is a topic (or %RETRY%<group>) a request needs a permission on.
type resource struct {
	name string
	perm perm
}

// parseResources lists what a request touches, as PlainAccessValidator.
// parse: sends need PUB on the topic (SUB on the retry topic of the group
// for %RETRY% topics), pulls SUB on the topic and the group, heartbeats SUB
// on each consumer group and subscribed topic, and so on. Like 4.9.4 it
// names no resource for SEND_BATCH_MESSAGE (320) and QUERY_CONSUMER_OFFSET
// (14): those are checked for their signature only. The list comes in the
// order the real broker checks it (its HashMap's iteration order), so the
// first refusal is the same one.
func parseResources(req *remoting.Command) ([]resource, error) {
	var list []resource
	add := func(name string, p perm) {
		for i := range list {
			if list[i].name == name {
				list[i].perm = p // HashMap.put keeps the entry's place
				return
			}
		}
		list = append(list, resource{name, p})
	}
	retry := func(group string, ok bool) {
		if ok {
			add(retryPrefix+group, permSub)
		}
	}
	get := req.Lookup
	required := func(name string) (string, error) {
		v, ok := get(name)
		if !ok {
			return "", &Denied{aclException + fmt.Sprintf("the custom field <%s> is null", name) + frameParse}
		}
		return v, nil
	}
	switch req.Code {
	case 10: // SEND_MESSAGE
		if topic, _ := get("topic"); strings.HasPrefix(topic, retryPrefix) {
			retry(get("group")) // a field the header does not have: no resource (as 4.9.4)
		} else if _, ok := get("topic"); ok {
			add(topic, permPub)
		}
	case 310: // SEND_MESSAGE_V2
		if topic, _ := get("b"); strings.HasPrefix(topic, retryPrefix) {
			retry(get("a")) // the producer group (sic)
		} else if _, ok := get("b"); ok {
			add(topic, permPub)
		}
	case 36: // CONSUMER_SEND_MSG_BACK
		retry(get("group"))
	case 11: // PULL_MESSAGE
		if topic, ok := get("topic"); ok {
			add(topic, permSub)
		}
		retry(get("consumerGroup"))
	case 12: // QUERY_MESSAGE
		if topic, ok := get("topic"); ok {
			add(topic, permSub)
		}
	case 34: // HEART_BEAT
		var hb struct {
			ConsumerDataSet []struct {
				GroupName           string `json:"groupName"`
				SubscriptionDataSet []struct {
					Topic string `json:"topic"`
				} `json:"subscriptionDataSet"`
			} `json:"consumerDataSet"`
		}
		if err := json.Unmarshal(req.Body, &hb); err != nil {
			return nil, &Denied{aclException + err.Error() + frameParse}
		}
		for _, cd := range hb.ConsumerDataSet {
			retry(cd.GroupName, true)
			for _, sd := range cd.SubscriptionDataSet {
				add(sd.Topic, permSub)
			}
		}
	case 35: // UNREGISTER_CLIENT
		if _, err := required("clientID"); err != nil {
			return nil, err
		}
		retry(get("consumerGroup"))
	case 38: // GET_CONSUMER_LIST_BY_GROUP
		g, err := required("consumerGroup")
		if err != nil {
			return nil, err
		}
		retry(g, true)
	case 15: // UPDATE_CONSUMER_OFFSET
		var vals [4]string
		for i, f := range []string{"consumerGroup", "topic", "queueId", "commitOffset"} {
			v, err := required(f)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		retry(vals[0], true)
		add(vals[1], permSub)
	}
	return javaHashMapOrder(list), nil
}

// javaHashMapOrder returns the resources in the order a java.util.HashMap
// filled with them in this order iterates: by bucket (the key's String
// hash, spread, masked by the table size), then insertion order.
func javaHashMapOrder(list []resource) []resource {
	if len(list) < 2 {
		return list
	}
	size := 16
	for float64(len(list)) > 0.75*float64(size) {
		size *= 2
	}
	bucket := func(s string) uint32 {
		h := uint32(message.JavaStringHash(s))
		return (h ^ h>>16) & uint32(size-1)
	}
	out := append([]resource(nil), list...)
	sort.SliceStable(out, func(i, j int) bool { return bucket(out[i].name) < bucket(out[j].name) })
	return out
}

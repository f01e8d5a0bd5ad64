package acl

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is a plain_acl.yml file (PlainPermissionManager's format).
type Config struct {
	// GlobalWhiteRemoteAddresses lets requests from these addresses through
	// without credentials or permission checks.
	GlobalWhiteRemoteAddresses []string  `yaml:"globalWhiteRemoteAddresses"`
	Accounts                   []Account `yaml:"accounts"`
}

// Account is one entry of accounts. Permissions are "DENY", "PUB", "SUB",
// "PUB|SUB" (or "SUB|PUB"); anything else, or nothing, denies, as in the
// real broker. Resource permissions are "name=PERM".
type Account struct {
	AccessKey string `yaml:"accessKey"`
	SecretKey string `yaml:"secretKey"`
	// WhiteRemoteAddress lets this account's requests from these addresses
	// through without a signature or permission check: one address, a
	// comma-separated list, "192.168.1.{1,2}", a range "192.168.1.1-100",
	// a wildcard "192.168.*.*", or "*".
	WhiteRemoteAddress string `yaml:"whiteRemoteAddress"`
	// Admin allows the admin request codes (create/delete topic and group,
	// update broker config), and every resource when the account lists no
	// topicPerms or groupPerms.
	Admin            bool     `yaml:"admin"`
	DefaultTopicPerm string   `yaml:"defaultTopicPerm"`
	DefaultGroupPerm string   `yaml:"defaultGroupPerm"`
	TopicPerms       []string `yaml:"topicPerms"`
	GroupPerms       []string `yaml:"groupPerms"`
}

// String describes the account without its secret key, so that printing
// a configuration never leaks it.
func (a Account) String() string {
	secret := "(none)"
	if a.SecretKey != "" {
		secret = "(set)"
	}
	return fmt.Sprintf("{accessKey:%s secretKey:%s whiteRemoteAddress:%q admin:%t defaultTopicPerm:%s defaultGroupPerm:%s topicPerms:%v groupPerms:%v}",
		a.AccessKey, secret, a.WhiteRemoteAddress, a.Admin, a.DefaultTopicPerm, a.DefaultGroupPerm, a.TopicPerms, a.GroupPerms)
}

// GoString is String, for %#v.
func (a Account) GoString() string { return "acl.Account" + a.String() }

// Load reads and checks a plain_acl.yml file.
func Load(path string) (*Validator, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acl: read %s: %w", path, err)
	}
	v, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("acl: %s: %w", path, err)
	}
	return v, nil
}

// Parse reads the YAML of a plain_acl.yml and checks it.
func Parse(data []byte) (*Validator, error) {
	var cfg Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	return New(cfg)
}

// New checks cfg as the real broker does when it loads the file (keys longer
// than 6 characters, resource permissions "name=PERM", valid address
// patterns) and returns its validator. An access key listed twice keeps its
// first entry, as in the real broker.
func New(cfg Config) (*Validator, error) {
	v := &Validator{accounts: make(map[string]*account)}
	for _, p := range cfg.GlobalWhiteRemoteAddresses {
		m, err := parseAddrPattern(p)
		if err != nil {
			return nil, fmt.Errorf("globalWhiteRemoteAddresses: %w", err)
		}
		v.global = append(v.global, m)
	}
	for i, a := range cfg.Accounts {
		acc, err := newAccount(a)
		if err != nil {
			return nil, fmt.Errorf("accounts[%d] (%s): %w", i, a.AccessKey, err)
		}
		if _, dup := v.accounts[acc.accessKey]; !dup {
			v.accounts[acc.accessKey] = acc
		}
	}
	return v, nil
}

// account is a checked Account (PlainAccessResource).
type account struct {
	accessKey, secretKey string
	admin                bool
	defaultTopic         perm
	defaultGroup         perm
	resources            map[string]perm // topics, and groups as %RETRY%<group>; nil when none listed
	white                addrMatcher
}

const (
	minKeyLength = 6 // AclConstants.ACCESS_KEY_MIN_LENGTH, SECRET_KEY_MIN_LENGTH: longer than this
	retryPrefix  = "%RETRY%"
)

func newAccount(a Account) (*account, error) {
	if len(a.AccessKey) <= minKeyLength || len(a.SecretKey) <= minKeyLength {
		return nil, fmt.Errorf("the accessKey=%s and its secretKey cannot be null and length should longer than 6", a.AccessKey)
	}
	acc := &account{
		accessKey:    a.AccessKey,
		secretKey:    a.SecretKey,
		admin:        a.Admin,
		defaultTopic: parsePerm(a.DefaultTopicPerm),
		defaultGroup: parsePerm(a.DefaultGroupPerm),
	}
	add := func(list []string, kind string, name func(string) string) error {
		for _, r := range list {
			items := splitNonEmpty(r, "=")
			if len(items) != 2 {
				return fmt.Errorf("Parse resource permission failed for %s:%s", kind, r)
			}
			if acc.resources == nil {
				acc.resources = make(map[string]perm)
			}
			acc.resources[name(strings.TrimSpace(items[0]))] = parsePerm(strings.TrimSpace(items[1]))
		}
		return nil
	}
	if err := add(a.GroupPerms, "group", func(g string) string { return retryPrefix + g }); err != nil {
		return nil, err
	}
	if err := add(a.TopicPerms, "topic", func(t string) string { return t }); err != nil {
		return nil, err
	}
	w, err := parseAddrPattern(a.WhiteRemoteAddress)
	if err != nil {
		return nil, fmt.Errorf("whiteRemoteAddress: %w", err)
	}
	acc.white = w
	return acc, nil
}

// splitNonEmpty is StringUtils.split(s, chars): split at any of chars,
// dropping empty pieces.
func splitNonEmpty(s, chars string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(chars, r) })
}

// perm is a permission bit set (Permission).
type perm byte

const (
	permDeny perm = 1
	permAny  perm = 1 << 1
	permPub  perm = 1 << 2
	permSub  perm = 1 << 3
)

// parsePerm is Permission.parsePermFromString: unknown or absent → DENY.
func parsePerm(s string) perm {
	switch strings.TrimSpace(s) {
	case "PUB":
		return permPub
	case "SUB":
		return permSub
	case "PUB|SUB", "SUB|PUB":
		return permPub | permSub
	}
	return permDeny
}

// allows is Permission.checkPermission.
func (owned perm) allows(needed perm) bool {
	if owned&permDeny != 0 {
		return false
	}
	if needed&permAny != 0 {
		return owned&(permPub|permSub) != 0
	}
	return needed&owned != 0
}

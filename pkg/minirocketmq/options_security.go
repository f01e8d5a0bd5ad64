package minirocketmq

import (
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/acl"
)

type securityConfig struct {
	acl *acl.Validator
}

// WithACL turns access control on (aclEnable): every request arriving at
// the broker listener is checked by v (package acl: signature, white
// addresses, admin codes, topic and group permissions) before its handler
// runs; a refused one gets the real broker's SYSTEM_ERROR and remark and
// changes nothing. The name server listener is not checked, as on the real
// name server. Load v from a plain_acl.yml with acl.Load.
func WithACL(v *acl.Validator) Option { return func(c *config) { c.security.acl = v } }

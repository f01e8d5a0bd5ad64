package minirocketmq

import (
	"net"
	"net/netip"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// aclInterceptor is the Interceptor WithACL installs in front of every
// other: the real broker runs its ACL hook before anything else too.
// Refusals are logged with the remark, which names the access key but
// never a secret.
func (b *Broker) aclInterceptor(v *acl.Validator) Interceptor {
	return func(r *Request) *remoting.Command {
		if r.Listener != ListenerBroker {
			return nil
		}
		remote := remoteIP(r.Remote)
		if err := v.Check(r.Command, remote); err != nil {
			b.log.Logf(LogLevelWarn, "ACL: request %d from %s refused: %v", r.Command.Code, r.Remote, err)
			return remoting.NewResponse(r.Command, remoting.SystemError, err.Error())
		}
		return nil
	}
}

func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

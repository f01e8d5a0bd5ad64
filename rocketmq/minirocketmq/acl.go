package minirocketmq

import (
	"net"
	"net/netip"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// aclInterceptor is the Interceptor WithACL installs in front of every
// other: the real broker runs its ACL hook before anything else too. It
// checks every request of the broker listener, and the requests of the
// name server listener that change something (acl.NameServerMutation:
// DELETE_TOPIC_IN_NAMESRV and the codes this name server does not serve),
// which need an admin account; route and topic-list queries stay open, as
// on the real name server (clients ask before they have credentials
// anywhere else). Refusals are logged with the remark, which names the
// access key but never a secret.
func (b *Broker) aclInterceptor(v *acl.Validator) Interceptor {
	return func(r *Request) *remoting.Command {
		if r.Listener != ListenerBroker && !acl.NameServerMutation(r.Command.Code) {
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

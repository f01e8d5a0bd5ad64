package rocketmq

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrTLSUnsupported is returned by Init when TLS is asked for in a way
// rocketmq-client-go v2 cannot honour: it dials every broker and name
// server with its own tls.Config{InsecureSkipVerify: true}, so it cannot
// verify the server's certificate (RootCAs, ServerName are ignored), nor
// present a client certificate. A TLS configuration is therefore accepted
// only when it says InsecureSkipVerify itself and carries no client
// certificate: the caller then knowingly gets an encrypted connection to an
// unauthenticated peer. Otherwise terminate TLS in front of the broker or
// use a plain connection.
var ErrTLSUnsupported = errors.New("rocketmq: rocketmq-client-go/v2 cannot verify the broker's certificate nor present a client certificate (it dials with InsecureSkipVerify); set InsecureSkipVerify in the tls.Config to accept that, or terminate TLS in front of the broker")

// ErrTLSMixed is returned by Connect when this process already connected a
// driver the other way (TLS or plain): the client's TLS switch is one
// variable for the whole process, so a plain and a TLS client cannot
// coexist in it.
var ErrTLSMixed = errors.New("rocketmq: rocketmq-client-go/v2's TLS switch is process-wide and this process already connected a driver with the other setting; use TLS for all drivers of the process or for none")

// checkTLS validates the TLS options and reports whether to dial TLS.
func checkTLS(secure bool, cfg *tls.Config) (bool, error) {
	switch {
	case !secure && cfg == nil:
		return false, nil
	case cfg == nil:
		return false, fmt.Errorf("%w: TLS asked for without a tls.Config saying InsecureSkipVerify", ErrTLSUnsupported)
	case !cfg.InsecureSkipVerify:
		return false, fmt.Errorf("%w: the tls.Config asks for certificate verification", ErrTLSUnsupported)
	case len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil:
		return false, fmt.Errorf("%w: the tls.Config carries a client certificate", ErrTLSUnsupported)
	}
	return true, nil
}

// tlsSwitch mirrors the client's process-wide TLS switch
// (internal/remote.DefaultRemotingClientConfig.UseTls, shared by every
// producer, consumer and admin of the process): the first driver that
// connects sets it, and a driver wanting the other setting is refused.
type tlsSwitch struct{ mode atomic.Int32 } // 0: unset, 1: plain, 2: TLS

func (s *tlsSwitch) claim(useTLS bool) error {
	want := int32(1)
	if useTLS {
		want = 2
	}
	if s.mode.CompareAndSwap(0, want) || s.mode.Load() == want {
		return nil
	}
	return ErrTLSMixed
}

// clientTLS is the one process-wide piece of state of this package: it
// exists because the client's TLS switch is process-wide.
var clientTLS tlsSwitch

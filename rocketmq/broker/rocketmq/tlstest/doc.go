// Package tlstest holds the end-to-end test of the rocketmq driver with
// TLS against the embedded broker's TLS listeners. It is a package of its
// own because the client's TLS switch is process-wide: once a driver
// connects with TLS, every client of the test binary dials TLS (and the
// driver refuses plain ones, ErrTLSMixed). It has no code besides the test.
package tlstest

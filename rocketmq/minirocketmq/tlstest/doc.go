// Package tlstest holds the end-to-end test of the embedded broker's TLS
// listeners with the official Go client. It is a package of its own
// because rocketmq-client-go v2's TLS switch (producer.WithTls,
// consumer.WithTls) is process-wide: once a client turns it on, every
// client of the test binary dials TLS, so no other test may share the
// process. It has no code besides the test.
package tlstest

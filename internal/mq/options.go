package mq

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// BrokerOptions maps the connection settings of one side to pkg/broker options: name
// servers, domain, namespace, instance name, credentials, retry count, send timeout,
// codec, TLS and RocketMQ's message trace. The caller adds the group, telemetry and
// side-specific options.
func BrokerOptions(c *conf.RocketMQ, logger log.Logger) ([]broker.Option, error) {
	opts := []broker.Option{
		rmq.WithNameServer(c.GetNameServers()),
		broker.WithLogger(logger),
		broker.WithClientLogLevel(log.LevelWarn),
	}
	if c.GetNameServerDomain() != "" {
		opts = append(opts, rmq.WithNameServerDomain(c.GetNameServerDomain()))
	}
	if c.GetNamespace() != "" {
		opts = append(opts, rmq.WithNamespace(c.GetNamespace()))
	}
	if c.GetInstanceName() != "" {
		opts = append(opts, rmq.WithInstanceName(c.GetInstanceName()))
	}
	if cr := c.GetCredentials(); cr.GetAccessKey() != "" {
		opts = append(opts, rmq.WithCredentials(cr.GetAccessKey(), cr.GetSecretKey(), cr.GetSecurityToken()))
	}
	if c.GetRetryCount() > 0 {
		opts = append(opts, rmq.WithRetryCount(int(c.GetRetryCount())))
	}
	if c.GetSendTimeout() != nil {
		opts = append(opts, rmq.WithSendTimeout(c.GetSendTimeout().AsDuration()))
	}
	if c.GetCodec() != "" {
		opts = append(opts, broker.WithCodec(c.GetCodec()))
	}
	if c.GetTls().GetEnabled() {
		cfg, err := TLSConfig(c.GetTls())
		if err != nil {
			return nil, err
		}
		opts = append(opts, broker.WithEnableSecure(true), broker.WithTLSConfig(cfg))
	}
	if c.GetTrace().GetMessageTrace() {
		opts = append(opts, rmq.WithEnableTrace())
	}
	return opts, nil
}

// TLSConfig builds the client TLS configuration of the tls section.
func TLSConfig(t *conf.RocketMQ_TLS) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.GetServerName(),
		InsecureSkipVerify: t.GetInsecureSkipVerify(), //nolint:gosec // an explicit, documented opt-in
	}
	if f := t.GetCaFile(); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rocketmq tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rocketmq tls.ca_file %s: no PEM certificate", f)
		}
		cfg.RootCAs = pool
	}
	if t.GetCertFile() != "" {
		cert, err := tls.LoadX509KeyPair(t.GetCertFile(), t.GetKeyFile())
		if err != nil {
			return nil, fmt.Errorf("rocketmq tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

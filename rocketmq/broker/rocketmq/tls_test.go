package rocketmq

import (
	"crypto/tls"
	"errors"
	"testing"
)

func TestCheckTLS(t *testing.T) {
	cert := tls.Certificate{Certificate: [][]byte{{1}}}
	tests := []struct {
		name    string
		secure  bool
		cfg     *tls.Config
		wantTLS bool
		wantErr bool
	}{
		{"plain", false, nil, false, false},
		{"secure without a config", true, nil, false, true},
		{"a config that verifies", true, &tls.Config{ServerName: "broker"}, false, true},
		{"a config with a client certificate", true, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}, false, true},
		{"InsecureSkipVerify said explicitly", false, &tls.Config{InsecureSkipVerify: true}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkTLS(tc.secure, tc.cfg)
			if got != tc.wantTLS || (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrTLSUnsupported)) {
				t.Fatalf("checkTLS = %v, %v", got, err)
			}
		})
	}
}

func TestTLSSwitch(t *testing.T) {
	var s tlsSwitch
	if err := s.claim(true); err != nil {
		t.Fatal(err)
	}
	if err := s.claim(true); err != nil {
		t.Fatalf("second TLS driver: %v", err)
	}
	if err := s.claim(false); !errors.Is(err, ErrTLSMixed) {
		t.Fatalf("plain driver after a TLS one: %v", err)
	}
}

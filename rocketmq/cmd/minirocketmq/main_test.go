package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestRun starts the command on free ports with an advertised address,
// asks its name server for a route and stops it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-grpc", "127.0.0.1:0", "-http", "127.0.0.1:0", "-advertise", "10.9.8.7:10911", "-queues", "6",
			"-delay-levels", "1s 250ms 2m", "-tx-check-interval", "5s", "-idle-timeout", "300ms", "-max-connections", "50"}, pw)
		_ = pw.Close()
	}()
	started := regexp.MustCompile(`name server (\S+), broker \S+ \(advertised (\S+)\)`)
	var nsAddr, advertised string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := started.FindStringSubmatch(sc.Text()); m != nil {
			nsAddr, advertised = m[1], m[2]
			break
		}
	}
	var grpcAddr, httpURL string
	if sc.Scan() {
		grpcAddr, _ = strings.CutPrefix(sc.Text(), "minirocketmq: gRPC (RocketMQ 5) endpoint ")
	}
	if sc.Scan() {
		httpURL, _ = strings.CutPrefix(sc.Text(), "minirocketmq: HTTP (Aliyun MQ) endpoint ")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if nsAddr == "" {
		t.Fatalf("no start line; run returned %v", <-done)
	}
	checkGRPC(t, grpcAddr)
	checkHTTP(t, httpURL)
	if advertised != "10.9.8.7:10911" {
		t.Fatalf("advertised %s", advertised)
	}
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	c, err := remoting.Dial(rctx, nsAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Invoke(rctx, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "TBW102"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != remoting.Success || !regexp.MustCompile(`"0":"10\.9\.8\.7:10911"`).Match(resp.Body) {
		t.Fatalf("route: code %d body %s", resp.Code, resp.Body)
	}
	// -delay-levels: one schedule queue per level.
	resp, err = c.Invoke(rctx, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", "SCHEDULE_TOPIC_XXXX"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != remoting.Success || !regexp.MustCompile(`"readQueueNums":3,`).Match(resp.Body) {
		t.Fatalf("route of the schedule topic: code %d body %s", resp.Code, resp.Body)
	}
	// -idle-timeout: a connection that says nothing is closed.
	silent, err := remoting.Dial(rctx, nsAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	select {
	case <-silent.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("-idle-timeout 300ms: a silent connection is still open after 5 s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlag(t *testing.T) {
	if err := run(context.Background(), []string{"-namesrv", "not-an-address"}, io.Discard); err == nil {
		t.Fatal("run with a bad listen address succeeded")
	}
}

func TestRunBadDelayLevels(t *testing.T) {
	err := run(context.Background(), []string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-delay-levels", "1s soon"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-delay-levels") {
		t.Fatalf("run with bad delay levels: %v", err)
	}
}

// TestRunDataDir starts the command on a data directory with SYNC_FLUSH and
// checks the store was created there.
func TestRunDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-grpc", "", "-http", "", "-data", dir, "-flush", "SYNC_FLUSH", "-retention", "72h", "-retention-size", "10GiB"}, pw)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() && !strings.Contains(sc.Text(), "NAMESRV_ADDR=") {
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "store", "FORMAT")); err != nil {
		t.Fatalf("no store in the data directory: %v", err)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-flush", "SOMETIMES"},
		{"-retention-size", "lots"},
		{"-acl", "/nonexistent/plain_acl.yml"},
		{"-tls-cert", "/nonexistent/cert.pem"},
		{"-tls-key", "/nonexistent/key.pem", "-tls-cert", "/nonexistent/cert.pem"},
	} {
		if err := run(context.Background(), append([]string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0"}, args...), io.Discard); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "64KiB": 64 << 10, "10MiB": 10 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40, "3gb": 3 << 30, "7 M": 7 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5GiB", "GiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// TestRunSecure starts the command with -tls-* and -acl: a TLS client is
// served and its unsigned send refused by the ACL; a plain client gets no
// answer.
func TestRunSecure(t *testing.T) {
	f := rmqtest.WriteTLSFiles(t)
	aclFile := filepath.Join(t.TempDir(), "plain_acl.yml")
	if err := os.WriteFile(aclFile, []byte("accounts:\n  - accessKey: app-client\n    secretKey: app-secret-1\n    defaultTopicPerm: PUB|SUB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-grpc", "", "-http", "", "-acl", aclFile,
			"-tls-cert", f.ServerCert, "-tls-key", f.ServerKey}, pw)
		_ = pw.Close()
	}()
	started := regexp.MustCompile(`name server (\S+), broker (\S+) \(`)
	var brokerAddr string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := started.FindStringSubmatch(sc.Text()); m != nil {
			brokerAddr = m[2]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if brokerAddr == "" {
		t.Fatalf("no start line; run returned %v", <-done)
	}
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	nc, err := (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}).DialContext(rctx, "tcp", brokerAddr)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	c := remoting.NewConn(nc, remoting.Config{})
	served := make(chan struct{})
	go func() { defer close(served); _ = c.Serve() }()
	resp, err := c.Invoke(rctx, remoting.NewRequest(remoting.GetMaxOffset, "topic", "T", "queueId", "0"))
	_ = c.Close()
	<-served
	if err != nil || resp.Code != remoting.SystemError || !strings.Contains(resp.Remark, "No accessKey is configured") {
		t.Fatalf("unsigned request over TLS: %v %+v", err, resp)
	}
	plain, err := remoting.Dial(rctx, brokerAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := plain.Invoke(rctx, remoting.NewRequest(remoting.GetMaxOffset, "topic", "T", "queueId", "0")); err == nil {
		t.Fatalf("a plain client was answered: %+v", resp)
	}
	_ = plain.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestBrokerConf: keys of a broker.conf set the flags they correspond to,
// flags given on the command line win, and keys without effect are listed.
func TestBrokerConf(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "broker.conf")
	if err := os.WriteFile(conf, []byte(`# a broker.conf of a real 4.9 deployment
brokerClusterName = ProdCluster
brokerName=broker-b
brokerId = 0
listenPort: 10921
brokerIP1 10.1.2.3
deleteWhen = 04
fileReservedTime = 48
flushDiskType = SYNC_FLUSH
flushIntervalCommitLog=200
syncFlushTimeout=2500
defaultTopicQueueNums = 8
enablePropertyFilter = false
autoCreateTopicEnable = FALSE
messageDelayLevel = 1s 5s
transactionTimeOut = 3000
timerMaxDelaySec = 86400
`), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, name := range []string{"cluster", "name", "broker", "advertise", "retention", "flush", "flush-interval", "queues",
		"property-filter", "auto-create", "delay-levels", "tx-timeout", "sync-flush-timeout", "timer-max-delay"} {
		vals[name] = fs.String(name, "", "")
	}
	*vals["broker"] = "127.0.0.1:10911"
	if err := fs.Parse([]string{"-name", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if err := applyBrokerConf(fs, conf, &log); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cluster": "ProdCluster", "name": "from-flag", "broker": "127.0.0.1:10921", "advertise": "10.1.2.3:10921",
		"retention": "48h0m0s", "flush": "SYNC_FLUSH", "flush-interval": "200ms", "queues": "8",
		"property-filter": "false", "auto-create": "false", "delay-levels": "1s 5s", "tx-timeout": "3s",
		"sync-flush-timeout": "2.5s", "timer-max-delay": "24h0m0s",
	}
	for k, v := range want {
		if got := *vals[k]; got != v {
			t.Errorf("-%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(log.String(), "keys without effect on the embedded broker: brokerId, deleteWhen") {
		t.Errorf("log: %s", log.String())
	}

	if err := os.WriteFile(conf, []byte("aclEnable=true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-namesrv", "127.0.0.1:0", "-broker", "127.0.0.1:0", "-config", conf}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "aclEnable=true needs -acl") {
		t.Fatalf("aclEnable without -acl: %v", err)
	}
}

// checkGRPC asks the -grpc endpoint for a route: it must answer (here
// TOPIC_NOT_FOUND: the topic does not exist).
func checkGRPC(t *testing.T, addr string) {
	t.Helper()
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("no gRPC start line (got %q)", addr)
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-mq-client-id", "test"), 5*time.Second)
	defer cancel()
	resp, err := v2.NewMessagingServiceClient(cc).QueryRoute(ctx, &v2.QueryRouteRequest{Topic: &v2.Resource{Name: "NoSuchTopic"}})
	if err != nil || resp.GetStatus().GetCode() != v2.Code_TOPIC_NOT_FOUND {
		t.Fatalf("gRPC route: %v %v", resp, err)
	}
}

// checkHTTP consumes from the -http endpoint: it must answer with the
// API's error for a topic that does not exist.
func checkHTTP(t *testing.T, endpoint string) {
	t.Helper()
	if !strings.HasPrefix(endpoint, "http://") {
		t.Fatalf("no HTTP start line (got %q)", endpoint)
	}
	req, err := http.NewRequest(http.MethodGet, endpoint+"/topics/NoSuchTopic/messages?consumer=GID_test", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "<Code>TopicNotExist</Code>") {
		t.Fatalf("HTTP consume: %d %s", resp.StatusCode, body)
	}
}

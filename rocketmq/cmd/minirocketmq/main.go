// Command minirocketmq runs the embedded RocketMQ name server and broker of
// package minirocketmq as a standalone process, for clients in any language:
//
//	minirocketmq -namesrv 127.0.0.1:9876 -broker 127.0.0.1:10911
//	minirocketmq -grpc 127.0.0.1:8081 -http 127.0.0.1:8082   (the defaults; "" turns one off)
//	minirocketmq -data ./data/rocketmq -flush SYNC_FLUSH -retention 72h
//	minirocketmq -acl conf/plain_acl.yml -tls-cert cert.pem -tls-key key.pem
//	minirocketmq -config conf/broker.conf -acl conf/plain_acl.yml
//
// Delivery semantics take the real broker's settings as flags:
// -delay-levels "1s 5s 10s ..." (messageDelayLevel), -tx-check-interval,
// -tx-timeout, -tx-check-max, -lock-expiry.
//
// Replay a consumer group from a point in time on a running broker (this
// one or any RocketMQ 4.x), like mqadmin resetOffsetByTime:
//
//	minirocketmq reset-offset -n 127.0.0.1:9876 -g GROUP -t TOPIC -s -30m
//
// It logs the addresses it listens on and runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "minirocketmq:", err)
		os.Exit(1)
	}
}

// run starts the broker described by args, logs to out, and serves until
// ctx ends; "reset-offset ..." runs that subcommand instead
// (resetoffset.go).
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "reset-offset" {
		return runResetOffset(ctx, args[1:], out)
	}
	fs := flag.NewFlagSet("minirocketmq", flag.ContinueOnError)
	fs.SetOutput(out)
	nsAddr := fs.String("namesrv", minirocketmq.DefaultNameServerAddr, "name server listen address (host:port; port 0 picks one)")
	brokerAddr := fs.String("broker", minirocketmq.DefaultBrokerAddr, "broker listen address (host:port; port 0 picks one)")
	advertise := fs.String("advertise", "", "broker address put in routes, like brokerIP1:listenPort (default: the listen address)")
	grpcAddr := fs.String("grpc", minirocketmq.DefaultGRPCAddr, "RocketMQ 5 gRPC endpoint listen address (the 5.x proxy's API, port 0 picks one); empty: no gRPC")
	httpAddr := fs.String("http", minirocketmq.DefaultHTTPAddr, "Aliyun MQ HTTP endpoint listen address (the HTTP API of Aliyun's RocketMQ 4.x instances, port 0 picks one); empty: no HTTP")
	httpInvisible := fs.Duration("http-invisible", minirocketmq.DefaultHTTPInvisibleDuration, "how long a message consumed over HTTP stays invisible before it comes again unless acked")
	queues := fs.Int("queues", minirocketmq.DefaultQueueNums, "queues of topics created on first send")
	autoCreate := fs.Bool("auto-create", true, "create topics on first send (autoCreateTopicEnable)")
	maxMsg := fs.Int("max-message-size", minirocketmq.DefaultMaxMessageSize, "largest message body accepted, bytes")
	cluster := fs.String("cluster", minirocketmq.DefaultClusterName, "cluster name (brokerClusterName)")
	name := fs.String("name", minirocketmq.DefaultBrokerName, "broker name (brokerName)")
	delayLevels := fs.String("delay-levels", minirocketmq.DefaultMessageDelayLevel, "delays of the message delay levels 1, 2, ... (messageDelayLevel; units s m h d, or Go durations)")
	txCheckInterval := fs.Duration("tx-check-interval", minirocketmq.DefaultTransactionCheckInterval, "how often an unresolved transaction is checked back with its producer (transactionCheckInterval)")
	txTimeout := fs.Duration("tx-timeout", 0, "age of a half message at its first check (transactionTimeOut; 0: min(6s, -tx-check-interval))")
	txCheckMax := fs.Int("tx-check-max", minirocketmq.DefaultTransactionCheckMax, "checks of an unresolved transaction before it is discarded (transactionCheckMax)")
	lockExpiry := fs.Duration("lock-expiry", minirocketmq.DefaultLockExpiry, "how long an orderly consumer's queue lock lasts without renewal")
	timerMaxDelay := fs.Duration("timer-max-delay", minirocketmq.DefaultTimerMaxDelay, "furthest ahead a timed message (TIMER_DELIVER_MS, TIMER_DELAY_SEC, TIMER_DELAY_MS) may be due; later ones are refused (timerMaxDelaySec)")
	dataDir := fs.String("data", "", "data directory (storePathRootDir): messages, offsets, topics and groups survive restarts; empty keeps everything in memory")
	flush := fs.String("flush", "ASYNC_FLUSH", "flushDiskType: ASYNC_FLUSH (fsync every -flush-interval) or SYNC_FLUSH (acknowledge sends after fsync)")
	flushInterval := fs.Duration("flush-interval", minirocketmq.DefaultFlushInterval, "how often the commit log is fsynced (flushIntervalCommitLog)")
	syncFlushTimeout := fs.Duration("sync-flush-timeout", minirocketmq.DefaultSyncFlushTimeout, "with SYNC_FLUSH, answer FLUSH_DISK_TIMEOUT to a send whose fsync takes longer (syncFlushTimeout)")
	retention := fs.Duration("retention", 0, "remove log segments whose newest message is older than this (fileReservedTime; 0 keeps them; default 48h in memory, 72h with -data)")
	retentionSize := fs.String("retention-size", "0", "keep the log under this size, oldest segments removed first (e.g. 10GiB; 0: no limit; default 512MiB in memory, no limit with -data)")
	aclFile := fs.String("acl", "", "plain_acl.yml to check every broker request against (aclEnable); empty: no ACL")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain): both listeners serve TLS (with -tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key of -tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "PEM CA certificates: require and verify client certificates signed by them")
	tlsMode := fs.String("tls-mode", "enforcing", "with -tls-cert: enforcing (TLS only) or permissive (TLS and plain on the same ports; tls.server.mode)")
	persistInterval := fs.Duration("persist-interval", minirocketmq.DefaultPersistInterval, "how often consumer offsets are written to -data (flushConsumerOffsetInterval; topics and groups are written when they change)")
	segmentSize := fs.String("segment-size", "64MiB", "commit-log segment size of -data, the unit of retention (mappedFileSizeCommitLog)")
	propertyFilter := fs.Bool("property-filter", true, "serve SQL92 subscriptions (enablePropertyFilter)")
	maxConns := fs.Int("max-connections", minirocketmq.DefaultMaxConnections, "most open connections of both listeners together; more are closed at once")
	idleTimeout := fs.Duration("idle-timeout", minirocketmq.DefaultIdleTimeout, "close a connection silent both ways for this long (serverChannelMaxIdleTimeSeconds)")
	tlsHandshakeTimeout := fs.Duration("tls-handshake-timeout", minirocketmq.DefaultTLSHandshakeTimeout, "disconnect a client whose TLS handshake takes longer")
	maxHeldPulls := fs.Int("max-held-pulls", minirocketmq.DefaultMaxHeldPulls, "most long-polling pulls held for one connection")
	confFile := fs.String("config", "", "a RocketMQ broker.conf: its keys that apply set the flags not given on the command line")
	verbose := fs.Bool("v", false, "log every connection (debug level)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *confFile != "" {
		if err := applyBrokerConf(fs, *confFile, out); err != nil {
			return err
		}
	}
	level := minirocketmq.LogLevelInfo
	if *verbose {
		level = minirocketmq.LogLevelDebug
	}
	levels, err := minirocketmq.ParseDelayLevels(*delayLevels)
	if err != nil {
		return fmt.Errorf("-delay-levels: %w", err)
	}
	opts := []minirocketmq.Option{
		minirocketmq.WithNameServerAddr(*nsAddr),
		minirocketmq.WithBrokerAddr(*brokerAddr),
		minirocketmq.WithAutoCreateTopic(*autoCreate),
		minirocketmq.WithDefaultQueueNums(*queues),
		minirocketmq.WithMaxMessageSize(*maxMsg),
		minirocketmq.WithClusterName(*cluster),
		minirocketmq.WithBrokerName(*name),
		minirocketmq.WithLogger(minirocketmq.BasicLogger(out, level)),
		minirocketmq.WithDelayLevels(levels...),
		minirocketmq.WithTransactionCheckInterval(*txCheckInterval),
		minirocketmq.WithTransactionCheckMax(*txCheckMax),
		minirocketmq.WithLockExpiry(*lockExpiry),
		minirocketmq.WithTimerMaxDelay(*timerMaxDelay),
		minirocketmq.WithMaxConnections(*maxConns),
		minirocketmq.WithIdleTimeout(*idleTimeout),
		minirocketmq.WithTLSHandshakeTimeout(*tlsHandshakeTimeout),
		minirocketmq.WithMaxHeldPulls(*maxHeldPulls),
	}
	if *txTimeout > 0 {
		opts = append(opts, minirocketmq.WithTransactionTimeout(*txTimeout))
	}
	if *grpcAddr != "" {
		opts = append(opts, minirocketmq.WithGRPCAddr(*grpcAddr))
	}
	if *httpAddr != "" {
		opts = append(opts, minirocketmq.WithHTTPAddr(*httpAddr), minirocketmq.WithHTTPInvisibleDuration(*httpInvisible))
	}
	if *advertise != "" {
		opts = append(opts, minirocketmq.WithAdvertisedAddr(*advertise))
	}
	flushType, err := minirocketmq.ParseFlushDiskType(*flush)
	if err != nil {
		return err
	}
	maxBytes, err := parseSize(*retentionSize)
	if err != nil {
		return fmt.Errorf("-retention-size: %w", err)
	}
	segBytes, err := parseSize(*segmentSize)
	if err != nil {
		return fmt.Errorf("-segment-size: %w", err)
	}
	if *dataDir != "" {
		opts = append(opts, minirocketmq.WithDataDir(*dataDir))
	}
	opts = append(opts,
		minirocketmq.WithFlushDiskType(flushType),
		minirocketmq.WithFlushInterval(*flushInterval),
		minirocketmq.WithSyncFlushTimeout(*syncFlushTimeout),
		minirocketmq.WithPersistInterval(*persistInterval),
		minirocketmq.WithSegmentSize(segBytes),
		minirocketmq.WithPropertyFilter(*propertyFilter))
	// Each retention flag replaces its own default.
	age, bytes := minirocketmq.DefaultMemoryRetentionAge, int64(minirocketmq.DefaultMemoryRetentionBytes)
	if *dataDir != "" {
		age, bytes = minirocketmq.DefaultDiskRetentionAge, 0
	}
	if flagSet(fs, "retention") {
		age = *retention
	}
	if flagSet(fs, "retention-size") {
		bytes = maxBytes
	}
	opts = append(opts, minirocketmq.WithRetention(age, bytes))
	if *tlsCert != "" || *tlsKey != "" || *tlsClientCA != "" {
		cfg, err := minirocketmq.LoadTLSConfig(*tlsCert, *tlsKey, *tlsClientCA)
		if err != nil {
			return err
		}
		mode, err := minirocketmq.ParseTLSMode(*tlsMode)
		if err != nil {
			return err
		}
		opts = append(opts, minirocketmq.WithTLS(cfg), minirocketmq.WithTLSMode(mode))
	}
	if *aclFile != "" {
		v, err := acl.Load(*aclFile)
		if err != nil {
			return err
		}
		opts = append(opts, minirocketmq.WithACL(v))
	}
	b, err := minirocketmq.New(opts...)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "minirocketmq: name server %s, broker %s (advertised %s); NAMESRV_ADDR=%s\n",
		b.NameServerAddr(), b.BrokerAddr(), b.AdvertisedAddr(), b.NameServerAddr())
	if a := b.GRPCAddr(); a != "" {
		fmt.Fprintf(out, "minirocketmq: gRPC (RocketMQ 5) endpoint %s\n", a)
	}
	if a := b.HTTPAddr(); a != "" {
		fmt.Fprintf(out, "minirocketmq: HTTP (Aliyun MQ) endpoint http://%s\n", a)
	}
	<-ctx.Done()
	fmt.Fprintln(out, "minirocketmq: shutting down")
	return b.Close()
}

// flagSet reports whether the flag was given (on the command line or by
// -config).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseSize reads a byte count with an optional unit: 512, 64KiB, 10MiB,
// 2GiB, 1TiB (also KB/MB/GB/TB as powers of 1024, as broker.conf does).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"TB", 1 << 40}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a non-negative number with an optional unit (KiB, MiB, GiB, TiB)", s)
	}
	return n * mult, nil
}

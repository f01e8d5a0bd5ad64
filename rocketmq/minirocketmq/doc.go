// Package minirocketmq is an embedded Apache RocketMQ 4.x name server and
// broker in one Go process. It speaks the real remoting protocol, so the
// official, unmodified clients (rocketmq-client-go/v2, the Java client)
// produce and consume through it exactly as through a real cluster; it is
// to RocketMQ what miniredis is to Redis and kfake to Kafka.
//
// In a test:
//
//	b := minirocketmq.RunT(t) // free loopback ports, closed by t.Cleanup
//	p, _ := rocketmq.NewProducer(producer.WithNameServer([]string{b.Addr()}))
//
// or rmqtest.NameServer(t), which uses ROCKETMQ_NAMESRV instead when it is
// set so the same test runs against real RocketMQ. In a program:
//
//	b, _ := minirocketmq.New(minirocketmq.WithNameServerAddr(":9876"), minirocketmq.WithBrokerAddr(":10911"))
//	_ = b.Start(ctx)
//	defer b.Close()
//
// The name server and the broker listen on two ports, like the real thing,
// so clients are configured as for a real cluster: with the name server
// address only. Routes point at the advertised broker address
// (WithAdvertisedAddr, the real brokerIP1). Topics are created on first
// send (TBW102, on by default), by UPDATE_AND_CREATE_TOPIC (the Go admin's
// CreateTopic) or by Broker.CreateTopic. Test hooks (hooks.go) read and seed
// state directly and inject failures (Control, FailNext); a ManualClock
// (WithClock) drives message time. WithDataDir keeps messages, offsets,
// topics and groups on disk across restarts (package store/disk), with
// ASYNC_FLUSH or SYNC_FLUSH (WithFlushDiskType).
//
// # Layout
//
// One file per request code, prefixed with the code (10_send_message.go,
// 11_pull_message.go, 105_get_routeinfo_by_topic.go, ...), each opening
// with what it honours and what it does not; dispatch.go holds the two
// dispatch tables (name server, broker). Subpackages: remoting (frames,
// headers, connections; knows nothing of topics), message (stored-record,
// batch and property formats, message ids), store (the Store interface and
// the in-memory store), rmqtest (the test entry point).
//
// # Concurrency
//
// Each connection has one reading goroutine, which decodes a request and
// runs its handler inline (remoting.Conn). Handlers never block: Send
// queues the response, the reader writes everything its burst of requests
// produced in one syscall before it waits for more input, and a writer
// goroutine sends what other goroutines queue. Work that must wait (a
// long-polling pull) is parked and answered later from another goroutine.
// Requests of one connection are thus handled in order; connections run in
// parallel.
//
// Every piece of mutable state has one owner, a lock that is never held
// during I/O nor together with another one:
//   - topicTable (topics.go): RWMutex; configs are immutable values.
//   - groupTable (groups.go), offsetTable (offsets.go): a mutex each.
//   - clientRegistry (clients.go): a mutex; notifications are collected
//     under it and sent after.
//   - pullHolds (longpoll.go): a mutex for the map, an atomic flag per held
//     pull deciding who answers it (message arrival, timer, close).
//   - the Store: its own lock (store.Memory: one RWMutex, writers hold it
//     for a memcpy; store/disk: an append mutex, a file-set RWMutex and one
//     mutex per queue, see its package doc) and, for store/disk, a syncer
//     and an indexer goroutine. With SYNC_FLUSH, answers to sends are sent
//     from the syncer goroutine once their fsync is done (respondWhenDurable).
//   - persister (persist.go): the versions of the tables last written to
//     the data directory, owned by the persister goroutine, then by Close.
//   - hooks (dispatch.go): a mutex plus an atomic count read on every
//     request.
//   - scheduler (delay.go): its goroutine owns the delay levels' cursors
//     and due times; senders only set a level's dirty flag and wake it.
//   - transactions (transactions.go): a mutex for the pending half
//     messages; its checker goroutine sleeps on the Clock until the next
//     check is due and sends check-backs after releasing it.
//   - lockTable (locks.go): a mutex; expiry timers (time.AfterFunc) for
//     locks somebody waits for, stopped by Close.
//   - timerWheel (timer.go): its goroutine owns the index of parked timed
//     messages; senders park a message and wake it.
//   - the pop engine (package pop): a mutex for its pending entries, under
//     which it reads the store and commits offsets (leaf calls that never
//     call back), a second one for waiting receives; its goroutine expires
//     deliveries on the Clock.
//   - the gRPC endpoint (grpc*.go): grpc-go runs each call on a goroutine
//     of its own; the client registry (v5Clients) has a mutex; each
//     Telemetry stream is written by one goroutine of its own, others queue
//     commands for it. Close stops the server and waits for its handlers.
//   - the HTTP endpoint (http*.go): net/http runs each request on a
//     goroutine of its own; it keeps no state but a mutex-guarded map of
//     the check times of half messages HTTP producers consumed. Close
//     cancels the requests' base context (ending long polls) and shuts the
//     server down before the pop engine closes.
//   - Broker.mu: the lifecycle (listeners, connection set) only.
//   - the ACL validator (WithACL) is immutable; it runs in the interceptor,
//     on the reading goroutine. TLS handshakes (and, in permissive mode,
//     the TLS-or-plain decision) run on the connection's goroutine before
//     its first read, within WithTLSHandshakeTimeout.
//
// A panic while serving a request (an interceptor, a handler, a held pull
// answered later, a broker→client call it started) is recovered
// (recover.go): the request gets SYSTEM_ERROR, the stack is logged once,
// only that connection is closed. Limits (options_limits.go) bound what
// the network can make the broker hold: connections, idle connections,
// handshakes, frame buffers, queue counts, held pulls, locks.
//
// Goroutines besides the connections' run for the broker's lifetime: the
// delay scheduler, the transaction checker, the timer, the pop engine's
// expiry (and, with WithGRPCAddr, the gRPC server and its client expiry;
// with WithHTTPAddr, the HTTP server);
// with a data directory, the persister too (and store/disk's syncer and
// indexer, ended by the store's Close). Broker→client calls that
// wait for an answer (the request-reply push, GET_CONSUMER_RUNNING_INFO and
// CONSUME_MESSAGE_DIRECTLY relayed for admin tools) run in a goroutine of
// their own, counted in the broker's wait group, and answer the request
// that caused them when they end.
//
// # Seams for what comes next
//
//   - Storage: store.Store (Put assigns queue offset, commit-log offset and
//     store time; Get reads by queue offset through a Filter; Lookup by
//     commit-log offset; QueryByKey; OffsetByTime). store/disk is the
//     durable one (WithDataDir); any other passes store/storetest and is
//     given with WithStore. State that must survive a restart either lives
//     in the store (as messages) or in the topic, group or offset table,
//     which persist.go writes to the data directory.
//   - Retention (retention.go): a store that implements store.Retainer
//     bounds itself and asks the broker's store.Keeper what it must keep
//     (pending half messages, undelivered delayed messages); a new kind
//     of message the broker still has to act on later belongs there.
//   - Every message stored goes through Broker.putMessages (put.go), which
//     also wakes held pulls: redeliveries, delayed and committed messages
//     must use it.
//   - Broker→client requests: clientRegistry.producerConns (transaction
//     check-back) and clientConn (request-reply push) give connections;
//     Conn.Invoke sends and awaits the answer, Conn.SendOneway fires and
//     forgets. Never wait for an answer on the connection whose request you
//     are handling: its reader is the one that would deliver it. Run such
//     calls in a goroutine and answer the original request later with
//     Broker.respond (see pullHolds.answer).
//   - Interceptor (WithInterceptor): runs before every handler and may
//     answer instead of it; WithACL installs the ACL check (acl.go) in
//     front of the others.
//   - Filters: newSubscription (filter.go) builds a store.Filter per
//     expression type: TAG, and SQL92 (package sql92).
//   - Topic and group changes call persistConfigs (persist.go) before
//     they are answered, so a crash keeps them.
//   - Clock: message time (store timestamps, delay levels and retry
//     back-off, transaction checks) comes from Broker.clock. Network timing
//     (pull holds, client expiry, orderly lock expiry) stays on real time.
//   - Persisted state: delayed and retried messages, half messages and
//     their resolutions are all in the Store (SCHEDULE_TOPIC_XXXX,
//     RMQ_SYS_TRANS_HALF_TOPIC, RMQ_SYS_TRANS_OP_HALF_TOPIC); the delay
//     cursors are offsets of the group CID_RMQ_SYS_SCHEDULE in the offset
//     table. A durable store plus the offset table is all a restart needs
//     (Start rebuilds pending transactions from the store); see README.md.
package minirocketmq

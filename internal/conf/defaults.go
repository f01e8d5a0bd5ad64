package conf

import (
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults returns the value of every key the configuration leaves out: the one place
// they are written. configs/config.yaml shows the same values (internal/conf's
// TestConfigFileShowsTheDefaults holds them equal), so deleting a line there changes
// nothing. A subscription's keys default by rule (see subscriptionDefaults).
func Defaults() *Bootstrap {
	seconds := func(n int) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Second) }
	return &Bootstrap{
		App: &App{Log: &App_Log{Level: "info"}, ShutdownTimeout: seconds(10)},
		Server: &Server{
			Http:     &Server_HTTP{Addr: "0.0.0.0:8000", Timeout: seconds(5)},
			Grpc:     &Server_GRPC{Addr: "0.0.0.0:9000", Timeout: seconds(5)},
			Rocketmq: &RocketMQServer{GroupPrefix: "order-service"},
		},
		Data: &Data{
			Database: &Data_Database{Driver: "sqlite"}, // source: see sqliteSource
			Rocketmq: &RocketMQ{
				Driver:         "v2",
				NameServers:    []string{"embedded"},
				Codec:          "json",
				ClientLogLevel: "warn",
				Credentials:    &RocketMQ_Credentials{},
				Tls:            &RocketMQ_TLS{},
				Trace:          &RocketMQ_Trace{Enabled: true},
				Embedded: &RocketMQ_Embedded{NameServerAddr: "127.0.0.1:9876", BrokerAddr: "127.0.0.1:10911", HttpAddr: "127.0.0.1:8082", GrpcAddr: "127.0.0.1:8081",
					DataDir: "data/rocketmq", TransactionCheckInterval: seconds(10)},
				Producer: &RocketMQ_Producer{Topic: "orders", Group: "order-service-producer", RetryCount: 2, SendTimeout: seconds(3)},
			},
		},
	}
}

// sqliteSource is data.database.source when the driver is sqlite and the key is left
// out (the other drivers need a DSN).
const sqliteSource = "data/app.db"

// withDefaults returns s with what it leaves out filled in: the service's own topic,
// the group <group_prefix>-<handler>, clustering, 16 redeliveries, 20 handler goroutines,
// and a new group starting at the first offset (so that events published before the
// group's first start are not skipped). The tag filter defaults to the handler's event
// where the handler is known (internal/server).
func (s *Subscription) withDefaults(groupPrefix, topic string) *Subscription {
	d := &Subscription{Topic: topic, Group: groupPrefix + "-" + s.GetHandler(), ConsumeMode: ConsumeMode_CLUSTERING,
		MaxReconsumeTimes: 16, Concurrency: 20, ConsumeFrom: ConsumeFrom_FIRST_OFFSET}
	proto.Merge(d, s) // the keys s sets win
	return d
}

// finishDefaults applies the defaults that depend on other keys.
func (bc *Bootstrap) finishDefaults() {
	if d := bc.GetData().GetDatabase(); d.GetDriver() == "sqlite" && d.GetSource() == "" {
		d.Source = sqliteSource
	}
	r := bc.GetServer().GetRocketmq()
	for i, s := range r.GetSubscriptions() {
		r.Subscriptions[i] = s.withDefaults(r.GroupPrefix, bc.GetData().GetRocketmq().GetProducer().GetTopic())
	}
}

// HandlerSubscriptions returns the subscriptions of the service's handlers (their
// names): the ones listed, and for each handler none of them names, one with every
// default (topic: the service's event topic, data.rocketmq.producer.topic).
func (c *RocketMQServer) HandlerSubscriptions(topic string, handlers []string) []*Subscription {
	subs := append([]*Subscription(nil), c.GetSubscriptions()...)
	for _, h := range handlers {
		if !slices.ContainsFunc(subs, func(s *Subscription) bool { return s.Handler == h }) {
			subs = append(subs, (&Subscription{Handler: h}).withDefaults(c.GetGroupPrefix(), topic))
		}
	}
	return subs
}

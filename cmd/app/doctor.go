package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/applog"
	"github.com/kratos-rocketmq/rocketmq/cluster"
)

// doctorTimeout bounds the whole check.
const doctorTimeout = 10 * time.Second

// doctor is `app doctor`: it loads the configuration, asks the name servers for the
// cluster and the routes of the configured topics, dials every broker address they hand
// out and explains what to fix when one cannot be reached (errReported then).
func doctor(confPath, profile string, w, stderr io.Writer) error {
	var lvl applog.Level
	_ = lvl.Set("warn")
	logger := applog.New(stderr, &lvl, "service.name", "doctor")
	log.SetLogger(logger)
	bc, _, closeConfig, err := loadConfig(confPath, profile, logger)
	if err != nil {
		return err
	}
	defer closeConfig()
	fmt.Fprintf(w, "RocketMQ doctor (config %s)\n", confPath)
	ep, err := openEndpoint(bc.Server, bc.Data, cluster.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() { _ = ep.Close() }()
	if ep.Embedded != nil {
		fmt.Fprintf(w, "The configuration selects the embedded broker: started it for this check on %s (name server) and %s (broker).\n",
			ep.Embedded.NameServerAddr(), ep.Embedded.BrokerAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	topics := []string{bc.Data.GetRocketmq().GetTopic()}
	for _, sub := range bc.Server.GetRocketmq().GetSubscriptions() {
		topics = append(topics, sub.GetTopic())
	}
	if ep.Producer.Doctor(ctx, w, "data.rocketmq.name_servers / APP_DATA_ROCKETMQ_NAME_SERVERS", topics...) > 0 {
		fmt.Fprintln(w, "With deploy/docker-compose.yaml: BROKER_IP1=<an IP the clients reach> make docker-up sets the broker's brokerIP1 (default 127.0.0.1, for clients on the Docker host).")
		return errReported
	}
	return nil
}

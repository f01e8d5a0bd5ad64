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
	ep, err := openEndpoint(bc.Data, cluster.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() { _ = ep.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	if ep.Doctor(ctx, w, topics(bc.Server, bc.Data)...) > 0 {
		return errReported
	}
	return nil
}

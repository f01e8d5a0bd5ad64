package conf

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults applied by Load to keys the configuration leaves unset. configs/config.yaml
// documents the same values.
const (
	DefaultLogLevel        = "info"
	DefaultShutdownTimeout = 10 * time.Second
	DefaultHTTPAddr        = "0.0.0.0:8000"
	DefaultGRPCAddr        = "0.0.0.0:9000"
	DefaultDatabaseDriver  = "sqlite"
	DefaultDatabaseSource  = "data/app.db"
	DefaultEventTopic      = "orders"
)

func applyDefaults(bc *Bootstrap) {
	// Merging present but empty sections creates the ones the configuration left out.
	proto.Merge(bc, &Bootstrap{
		App:    &App{Log: &App_Log{}},
		Server: &Server{Http: &Server_HTTP{}, Grpc: &Server_GRPC{}},
		Data:   &Data{Database: &Data_Database{}, Rocketmq: &RocketMQ{}},
	})
	orDefault(&bc.App.Log.Level, DefaultLogLevel)
	if bc.App.ShutdownTimeout == nil {
		bc.App.ShutdownTimeout = durationpb.New(DefaultShutdownTimeout)
	}
	orDefault(&bc.Server.Http.Addr, DefaultHTTPAddr)
	orDefault(&bc.Server.Grpc.Addr, DefaultGRPCAddr)
	orDefault(&bc.Data.Database.Driver, DefaultDatabaseDriver)
	if bc.Data.Database.Driver == DefaultDatabaseDriver {
		orDefault(&bc.Data.Database.Source, DefaultDatabaseSource)
	}
	orDefault(&bc.Data.Rocketmq.Topic, DefaultEventTopic)
}

// orDefault sets *key to value when it is empty.
func orDefault(key *string, value string) {
	if *key == "" {
		*key = value
	}
}

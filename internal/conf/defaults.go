package conf

import (
	"time"

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
	if bc.App == nil {
		bc.App = &App{}
	}
	if bc.App.Log == nil {
		bc.App.Log = &App_Log{}
	}
	if bc.App.Log.Level == "" {
		bc.App.Log.Level = DefaultLogLevel
	}
	if bc.App.ShutdownTimeout == nil {
		bc.App.ShutdownTimeout = durationpb.New(DefaultShutdownTimeout)
	}
	if bc.Server == nil {
		bc.Server = &Server{}
	}
	if bc.Server.Http == nil {
		bc.Server.Http = &Server_HTTP{}
	}
	if bc.Server.Http.Addr == "" {
		bc.Server.Http.Addr = DefaultHTTPAddr
	}
	if bc.Server.Grpc == nil {
		bc.Server.Grpc = &Server_GRPC{}
	}
	if bc.Server.Grpc.Addr == "" {
		bc.Server.Grpc.Addr = DefaultGRPCAddr
	}
	if bc.Data == nil {
		bc.Data = &Data{}
	}
	if bc.Data.Database == nil {
		bc.Data.Database = &Data_Database{}
	}
	if bc.Data.Database.Driver == "" {
		bc.Data.Database.Driver = DefaultDatabaseDriver
	}
	if bc.Data.Database.Source == "" && bc.Data.Database.Driver == DefaultDatabaseDriver {
		bc.Data.Database.Source = DefaultDatabaseSource
	}
	if bc.Data.Rocketmq == nil {
		bc.Data.Rocketmq = &RocketMQ{}
	}
	if bc.Data.Rocketmq.Topic == "" {
		bc.Data.Rocketmq.Topic = DefaultEventTopic
	}
}

// Command app is the order service: an HTTP/gRPC API whose orders are confirmed by a
// RocketMQ subscriber of the service's own OrderCreated events.
//
//	app [-conf path] [-profile name]
//	app doctor [-conf path] [-profile name]
//
// -conf is a YAML/JSON file or a directory of them (default ../../configs as in
// kratos-layout, or ./configs when started from the repository root), or a configuration
// in Nacos: nacos://host:8848?dataId=app.yaml&group=G&namespace=N; -profile adds the
// overlay files <base>.<profile>.yaml of a directory. APP_* environment variables
// override single keys (see README, "Configuration").
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/applog"
	"github.com/kratos-rocketmq/rocketmq/config/nacos"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

// Set with go build -ldflags "-X main.Version=x.y.z" (make build does).
var (
	// Name is the service name when app.name is not configured; default: the binary's name.
	Name string
	// Version is the version of the compiled software.
	Version string
)

// defaultConfPaths are tried in order when -conf is not given: kratos-layout's path for
// `cd cmd/app && go run .`, then the repository root's configs/.
var defaultConfPaths = []string{"../../configs", "configs"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run starts the service and blocks until it stops, or with "doctor" first checks the
// RocketMQ connection instead (see doctor); it returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	name, cmd := "app", serve
	if len(args) > 0 && args[0] == "doctor" {
		name, cmd, args = "app doctor", doctor, args[1:]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	confPath := fs.String("conf", "", "config file or directory (default ../../configs, else ./configs), or nacos://host:8848?dataId=app.yaml")
	profile := fs.String("profile", os.Getenv("APP_PROFILE"), "config profile: also load <base>.<profile>.yaml files of a -conf directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *confPath == "" {
		*confPath = firstExisting(defaultConfPaths)
	}
	if err := cmd(*confPath, *profile, stdout, stderr); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
		return 1
	}
	return 0
}

// errReported is returned by a command that has explained its failure already.
var errReported = errors.New("failure reported")

// loadConfig reads the configuration of -conf (a file, a directory, or a nacos:// URL)
// and -profile, with the APP_* environment on top also after a watched source changed.
// close closes it, and the Nacos client the configuration came from.
func loadConfig(confPath, profile string, logger log.Logger) (bc *conf.Bootstrap, cfg config.Config, close func(), err error) {
	src, closeSource, err := nacos.SourceOf(confPath, func(path string) config.Source { return protoconf.NewFileSource(path, profile) })
	if err != nil {
		return nil, nil, nil, err
	}
	env := conf.NewEnvSource()
	bc, cfg, err = conf.Load(logger, protoconf.WithOverlay(src, env), env)
	if err != nil {
		closeSource()
		return nil, nil, nil, err
	}
	return bc, cfg, func() { _ = cfg.Close(); closeSource() }, nil
}

func serve(confPath, profile string, stdout, _ io.Writer) error {
	info := appInfo{Name: Name, Version: Version}
	info.ID, _ = os.Hostname()
	if info.Name == "" {
		info.Name = filepath.Base(os.Args[0])
	}
	// Kratos' servers and config package log through the global logger; route it to ours
	// once, here, so their lines carry the service fields and honour the level too.
	var lvl applog.Level
	global := applog.InstallGlobal(stdout, &lvl, info.fields("")...)
	logger := applog.New(stdout, &lvl, info.fields("")...)
	bc, cfg, closeConfig, err := loadConfig(confPath, profile, logger)
	if err != nil {
		return err
	}
	defer closeConfig()
	if err := lvl.Set(bc.App.GetLog().GetLevel()); err != nil {
		return fmt.Errorf("config key app.log.level: %w", err)
	}
	if n := bc.App.GetName(); n != "" {
		info.Name = n
	}
	logger = applog.New(stdout, &lvl, info.fields(bc.App.GetEnv())...)
	global.Reset(stdout, &lvl, info.fields(bc.App.GetEnv())...)
	applog.WatchLevel(cfg, "app.log.level", &lvl, logger)

	// Kratos installs its signal handler only once every server has started; a signal that
	// came earlier would kill the process uncleanly. Catch them from here on and stop the
	// app (App.Stop may be called at any time, also twice).
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(stop)

	app, cleanup, err := wireApp(info, bc.App, bc.Server, bc.Data, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stop:
			_ = app.Stop()
		case <-done:
		}
	}()
	return app.Run()
}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return paths[0] // the error will name it
}

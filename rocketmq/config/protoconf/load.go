// Package protoconf loads a Kratos service's configuration into a protobuf message (the
// kratos-layout conf.proto way) and checks it against the message's schema, so that a
// mistake is an error naming the file and line (syntax) or the key (value) instead of a
// zero value found at run time:
//
//	env := protoconf.NewEnvSource("APP_", (&conf.Bootstrap{}).ProtoReflect().Descriptor())
//	var bc conf.Bootstrap
//	c, err := protoconf.Load(logger, &bc,
//		protoconf.WithOverlay(protoconf.NewFileSource("configs", profile), env), env)
//	defer c.Close()
//
// Sources: NewFileSource (a YAML/JSON file, or a directory with per-profile overlay
// files), NewEnvSource (prefixed environment variables mapped onto the schema's keys),
// and any Kratos config.Source (a Nacos data ID, for one); WithOverlay keeps the
// environment on top when a watched source changes at run time.
package protoconf

import (
	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"
)

// Load reads the sources in order (later ones override earlier ones) and decodes them
// into msg (see Decode). It returns the config.Config, which the caller keeps for Watch
// and closes at exit. Unknown keys are logged as warnings, environment variables of an
// EnvSource that match no key at debug level.
func Load(logger log.Logger, msg proto.Message, sources ...config.Source) (config.Config, error) {
	c := config.New(config.WithSource(sources...))
	if err := c.Load(); err != nil {
		_ = c.Close()
		return nil, err
	}
	warnings, err := Decode(c, msg)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	h := log.NewHelper(logger)
	for _, w := range warnings {
		h.Warnw("msg", "ignoring configuration key", "reason", w)
	}
	for _, s := range sources {
		if env, ok := s.(*EnvSource); ok {
			for _, name := range env.Unmatched() {
				h.Debugw("msg", "environment variable matches no configuration key", "name", name)
			}
		}
	}
	return c, nil
}

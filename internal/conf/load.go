package conf

import (
	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

// EnvPrefix starts the environment variables that override configuration keys:
// APP_SERVER_HTTP_ADDR sets server.http.addr (see protoconf.EnvSource).
const EnvPrefix = "APP_"

// NewEnvSource returns the APP_* overrides of the Bootstrap keys.
func NewEnvSource() *protoconf.EnvSource {
	return protoconf.NewEnvSource(EnvPrefix, (&Bootstrap{}).ProtoReflect().Descriptor())
}

// Load reads the sources in order (later ones override earlier ones) and returns the
// configuration, checked against the Bootstrap schema, defaulted and validated, with the
// config.Config, which the caller keeps for Watch and closes at exit. Errors name the
// file, the line or the key at fault.
func Load(logger log.Logger, sources ...config.Source) (*Bootstrap, config.Config, error) {
	bc := &Bootstrap{}
	c, err := protoconf.Load(logger, bc, sources...)
	if err != nil {
		return nil, nil, err
	}
	if err := finish(bc); err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	return bc, c, nil
}

// Decode returns the current values of c as a Bootstrap, as Load does.
func Decode(c config.Config) (*Bootstrap, error) {
	bc := &Bootstrap{}
	if _, err := protoconf.Decode(c, bc); err != nil {
		return nil, err
	}
	return bc, finish(bc)
}

func finish(bc *Bootstrap) error {
	applyDefaults(bc)
	return bc.Validate()
}

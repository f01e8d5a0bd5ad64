package reliability

import (
	"flag"
	"os"
	"testing"

	rel "github.com/kratos-rocketmq/rocketmq/test/reliability"

	"github.com/go-kratos/kratos/v2/log"
)

// builds holds the binaries the tests run as child processes: the service's cmd/app and
// the library's cmd/minirocketmq.
var builds rel.Builder

func TestMain(m *testing.M) {
	flag.Parse()
	// Kratos' recovery middleware logs every recovered panic through the global logger;
	// the handler-fault tests cause hundreds. Route it to the tests' logger once, here.
	log.SetLogger(rel.Logger())
	code := m.Run()
	builds.Remove()
	os.Exit(code)
}

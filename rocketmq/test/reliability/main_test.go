package reliability

import (
	"flag"
	"os"
	"testing"

	"github.com/go-kratos/kratos/v2/log"
)

// builds holds the binaries the tests run as child processes (cmd/minirocketmq).
var builds Builder

func TestMain(m *testing.M) {
	flag.Parse()
	// Kratos' recovery middleware logs every recovered panic through the global logger;
	// the handler-fault tests cause hundreds. Route it to the tests' logger once, here.
	log.SetLogger(Logger())
	code := m.Run()
	builds.Remove()
	os.Exit(code)
}

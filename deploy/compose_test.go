// Package deploy holds the Docker Compose file for a local RocketMQ and the service. No
// Docker engine runs in CI, so this test checks the file's structure and its wiring to the
// configuration instead of starting it.
package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kratos/kratos/v2/log"
	"gopkg.in/yaml.v3"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

type compose struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image       string                                `yaml:"image"`
		Build       *struct{ Context, Dockerfile string } `yaml:"build"`
		Command     any                                   `yaml:"command"`
		Environment map[string]string                     `yaml:"environment"`
		Ports       []string                              `yaml:"ports"`
		Volumes     []string                              `yaml:"volumes"`
		NetworkMode string                                `yaml:"network_mode"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Timeout  string   `yaml:"timeout"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true) // a misspelled key is an error, as in docker compose
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	for _, name := range []string{"namesrv", "broker", "dashboard", "app"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("service %q missing", name)
		}
	}
	ns, br, app := c.Services["namesrv"], c.Services["broker"], c.Services["app"]
	if !strings.HasPrefix(ns.Image, "apache/rocketmq:4.9") || ns.Image != br.Image {
		t.Errorf("namesrv/broker images = %q/%q, want the same apache/rocketmq:4.9.x", ns.Image, br.Image)
	}
	if ns.Healthcheck == nil || br.Healthcheck == nil {
		t.Error("namesrv and broker need healthchecks (the app waits for them)")
	}
	if !contains(ns.Ports, "9876:9876") || !contains(br.Ports, "10911:10911") {
		t.Errorf("ports: namesrv %v broker %v", ns.Ports, br.Ports)
	}
	if v := br.Environment["BROKER_IP1"]; !strings.Contains(v, "${BROKER_IP1") {
		t.Errorf("broker BROKER_IP1 = %q, want it configurable from the environment", v)
	}
	cmd, _ := br.Command.(string)
	if !strings.Contains(cmd, "brokerIP1=$${BROKER_IP1}") || !strings.Contains(cmd, "mqbroker -c /tmp/broker.conf") {
		t.Errorf("broker command does not apply BROKER_IP1: %q", cmd)
	}
	for _, v := range br.Volumes {
		src := strings.SplitN(v, ":", 2)[0]
		if _, err := os.Stat(src); err != nil {
			t.Errorf("broker volume %s: %v", src, err)
		}
	}
	if app.Build == nil {
		t.Fatal("app must be built from the repository")
	}
	if _, err := os.Stat(filepath.Join(app.Build.Context, app.Build.Dockerfile)); err != nil {
		t.Errorf("app Dockerfile: %v", err)
	}
	if app.DependsOn["broker"].Condition != "service_healthy" {
		t.Error("app must wait for a healthy broker")
	}
	if app.NetworkMode != "service:broker" {
		t.Errorf("app network_mode = %q; the default brokerIP1 (127.0.0.1) needs service:broker", app.NetworkMode)
	}
	dashOpts := c.Services["dashboard"].Environment["JAVA_OPTS"]
	if !strings.Contains(dashOpts, "isVIPChannel=false") {
		t.Errorf("dashboard must not use the VIP channel: %q", dashOpts)
	}
	for _, v := range app.Volumes {
		if name := strings.SplitN(v, ":", 2)[0]; !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "/") {
			if _, ok := c.Volumes[name]; !ok {
				t.Errorf("app volume %q is not declared", name)
			}
		}
	}
}

// TestDockerProfileConfig loads configs/ with the docker profile the compose file selects.
func TestDockerProfileConfig(t *testing.T) {
	bc, cfg, err := conf.Load(log.DefaultLogger, protoconf.NewFileSource("../configs", "docker"))
	if err != nil {
		t.Fatalf("configs with profile docker: %v", err)
	}
	defer cfg.Close()
	for _, r := range []*conf.RocketMQ{bc.GetServer().GetRocketmq(), bc.GetData().GetRocketmq()} {
		if got := strings.Join(r.GetNameServers(), ","); got != "namesrv:9876" {
			t.Errorf("docker profile name servers = %q, want namesrv:9876", got)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Package deploy holds the Docker Compose files for a local RocketMQ and the service. No
// Docker engine runs in CI, so these tests check the files' structure, their profiles and
// published ports, the Makefile targets that drive them (as make resolves them) and the
// Dockerfile, instead of starting containers. cmd/app's TestMakeTargetsAgainstACluster
// runs the host side (make run, make doctor) against an embedded stand-in.
package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-kratos/kratos/v2/log"
	"gopkg.in/yaml.v3"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/config/protoconf"
)

type service struct {
	Image       string                                `yaml:"image"`
	Profiles    []string                              `yaml:"profiles"`
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
}

type compose struct {
	Name     string              `yaml:"name"`
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

func readCompose(t *testing.T, path string) compose {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true) // a misspelled key is an error, as in docker compose
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// hostPorts returns the host ports the services started without a profile publish
// (with the override, when given, merged in as compose merges ports).
func hostPorts(c compose, overrides ...compose) map[string]string {
	ports := map[string]string{}
	for name, s := range c.Services {
		if len(s.Profiles) > 0 {
			continue
		}
		list := s.Ports
		for _, o := range overrides {
			if os, ok := o.Services[name]; ok {
				list = append(list, os.Ports...)
			}
		}
		for _, p := range list {
			ports[strings.SplitN(p, ":", 2)[0]] = name
		}
	}
	return ports
}

var defaultTag = regexp.MustCompile(`^apache/rocketmq:\$\{ROCKETMQ_VERSION:-([^}]+)\}$`)

func TestComposeFile(t *testing.T) {
	c := readCompose(t, "docker-compose.yaml")
	for _, name := range []string{"namesrv", "broker", "dashboard", "app"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("service %q missing", name)
		}
	}
	ns, br, dash, app := c.Services["namesrv"], c.Services["broker"], c.Services["dashboard"], c.Services["app"]
	m := defaultTag.FindStringSubmatch(ns.Image)
	if m == nil || m[1] != "4.9.4" || ns.Image != br.Image {
		t.Errorf("namesrv/broker images = %q/%q, want apache/rocketmq:${ROCKETMQ_VERSION:-4.9.4} for both", ns.Image, br.Image)
	}
	if ns.Healthcheck == nil || br.Healthcheck == nil {
		t.Error("namesrv and broker need healthchecks (make rocketmq-up --wait and the app wait for them)")
	}
	if v := br.Environment["BROKER_IP1"]; !strings.Contains(v, "${BROKER_IP1") {
		t.Errorf("broker BROKER_IP1 = %q, want it configurable from the environment", v)
	}
	cmd, _ := br.Command.(string)
	if !strings.Contains(cmd, "brokerIP1=$${BROKER_IP1}") || !strings.Contains(cmd, "mqbroker -c /tmp/broker.conf") || strings.Contains(cmd, "proxy") {
		t.Errorf("broker command does not apply BROKER_IP1 (or starts a proxy): %q", cmd)
	}
	for _, v := range br.Volumes {
		if _, err := os.Stat(strings.SplitN(v, ":", 2)[0]); err != nil {
			t.Errorf("broker volume %s: %v", v, err)
		}
	}

	// The default `up` (make rocketmq-up) is RocketMQ alone and leaves the app's ports
	// to the app on the host.
	for name, s := range c.Services {
		if got := slices.Contains(s.Profiles, "app"); got != (name == "app") {
			t.Errorf("service %s profiles %v: only the app is under the profile app", name, s.Profiles)
		}
	}
	if got := hostPorts(c); len(got) != 3 || got["9876"] != "namesrv" || got["10911"] != "broker" || got["8080"] != "broker" {
		t.Errorf("host ports of the default up = %v, want 9876 (namesrv), 10911 and 8080 (broker: the dashboard's) and no other", got)
	}

	// The dashboard reaches the broker at its default advertised address.
	if dash.NetworkMode != "service:broker" || len(dash.Ports) != 0 {
		t.Errorf("dashboard network_mode %q ports %v: it must share the broker's namespace (127.0.0.1:10911 is the broker there)", dash.NetworkMode, dash.Ports)
	}
	if opts := dash.Environment["JAVA_OPTS"]; !strings.Contains(opts, "isVIPChannel=false") || !strings.Contains(opts, "rocketmq.namesrv.addr=namesrv:9876") {
		t.Errorf("dashboard JAVA_OPTS %q: want the name server namesrv:9876 and no VIP channel", opts)
	}
	if dash.DependsOn["broker"].Condition != "service_healthy" {
		t.Error("the dashboard must wait for a healthy broker")
	}

	// The app, all in containers.
	if app.Build == nil {
		t.Fatal("app must be built from the repository")
	}
	if _, err := os.Stat(app.Build.Context + "/" + app.Build.Dockerfile); err != nil {
		t.Errorf("app Dockerfile: %v", err)
	}
	if app.DependsOn["broker"].Condition != "service_healthy" || app.NetworkMode != "service:broker" || len(app.Ports) != 0 {
		t.Errorf("app: depends_on %v, network_mode %q, ports %v: want a healthy broker, its namespace, no ports of its own",
			app.DependsOn, app.NetworkMode, app.Ports)
	}
	if args, _ := app.Command.([]any); len(args) != 2 || args[0] != "-profile" || args[1] != "docker" {
		t.Errorf("app command = %v, want -profile docker", app.Command)
	}
	for _, v := range app.Volumes {
		if name := strings.SplitN(v, ":", 2)[0]; !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "/") {
			if _, ok := c.Volumes[name]; !ok {
				t.Errorf("app volume %q is not declared", name)
			}
		}
	}
	override := readCompose(t, "docker-compose.app.yaml")
	if len(override.Services) != 1 || override.Services["broker"] == nil {
		t.Fatalf("docker-compose.app.yaml changes %v, want the broker only", override.Services)
	}
	got := hostPorts(c, override)
	if got["8000"] != "broker" || got["9000"] != "broker" {
		t.Errorf("host ports with docker-compose.app.yaml = %v, want the app's 8000 and 9000 on the broker", got)
	}
}

// TestMakeTargets: the Makefile's Docker and run targets resolve to the commands the
// README promises (make -n prints them without running anything).
func TestMakeTargets(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	const (
		base = "docker compose -f deploy/docker-compose.yaml"
		app  = base + " -f deploy/docker-compose.app.yaml --profile app"
	)
	for _, tc := range []struct {
		args []string
		want string // the last command
	}{
		{[]string{"rocketmq-up"}, "ROCKETMQ_VERSION=4.9.4 " + base + " up -d --wait"},
		{[]string{"rocketmq-up", "ROCKETMQ_VERSION=5.3.1"}, "ROCKETMQ_VERSION=5.3.1 " + base + " up -d --wait"},
		{[]string{"rocketmq-down"}, "ROCKETMQ_VERSION=4.9.4 " + base + " down"},
		{[]string{"docker-up"}, "ROCKETMQ_VERSION=4.9.4 " + app + " up -d --build --wait"},
		{[]string{"docker-down"}, "ROCKETMQ_VERSION=4.9.4 " + app + " down"},
		{[]string{"run"}, "./bin/app -conf ./configs"},
		{[]string{"run", "ROCKETMQ=127.0.0.1:9876"}, "APP_DATA_ROCKETMQ_NAME_SERVERS=127.0.0.1:9876 ./bin/app -conf ./configs"},
		{[]string{"doctor", "ROCKETMQ=127.0.0.1:9876"}, "APP_DATA_ROCKETMQ_NAME_SERVERS=127.0.0.1:9876 ./bin/app doctor -conf ./configs"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, tc.args...)...)
			cmd.Dir = ".."
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { // the defaults, not this shell's
				return strings.HasPrefix(kv, "ROCKETMQ=") || strings.HasPrefix(kv, "ROCKETMQ_VERSION=")
			})
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("make -n %v: %v", tc.args, err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if last := lines[len(lines)-1]; last != tc.want {
				t.Errorf("make %v runs %q, want %q", tc.args, last, tc.want)
			}
		})
	}
}

// TestDockerfileDataDirectory: the image's runtime state directory belongs to the user
// it runs as, so SQLite (and the embedded broker's store) can create files in the volume.
func TestDockerfileDataDirectory(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	stages := strings.Split(df, "\nFROM ")[1:] // [0] is the header comment
	if len(stages) != 2 || !strings.Contains(stages[1], "distroless") || !strings.Contains(stages[1], ":nonroot") {
		t.Fatalf("want a builder stage and a distroless nonroot stage, got %d stages", len(stages))
	}
	for _, want := range []string{"RUN mkdir -p /out/data/db"} {
		if !strings.Contains(stages[0], want) {
			t.Errorf("builder stage lacks %q", want)
		}
	}
	for _, want := range []string{"COPY --from=builder --chown=65532:65532 /out/data /data", "USER 65532:65532",
		"APP_DATA_DATABASE_SOURCE=/data/db/app.db", "APP_DATA_ROCKETMQ_EMBEDDED_DATA_DIR=/data/db/rocketmq", "VOLUME /data/db"} {
		if !strings.Contains(stages[1], want) {
			t.Errorf("final stage lacks %q", want)
		}
	}
	if i, j := strings.Index(stages[1], "--chown=65532:65532 /out/data /data"), strings.Index(stages[1], "VOLUME /data/db"); i > j {
		t.Error("the volume is declared before its directory gets its owner")
	}
}

// TestDockerProfileConfig loads configs/ with the docker profile the compose file selects.
func TestDockerProfileConfig(t *testing.T) {
	bc, cfg, err := conf.Load(log.DefaultLogger, protoconf.NewFileSource("../configs", "docker"))
	if err != nil {
		t.Fatalf("configs with profile docker: %v", err)
	}
	defer cfg.Close()
	if got := strings.Join(bc.GetData().GetRocketmq().GetNameServers(), ","); got != "namesrv:9876" {
		t.Errorf("docker profile name servers = %q, want namesrv:9876", got)
	}
}

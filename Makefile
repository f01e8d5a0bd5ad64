# Module path, read from go.mod so `kratos new` / `make new` renames need no edit here.
MODULE          := $(shell go list -m 2>/dev/null)
VERSION         := $(shell git describe --tags --always 2>/dev/null || echo dev)
GOBIN           := $(shell go env GOPATH)/bin
INTERNAL_PROTO  := $(shell find internal -name '*.proto' -not -path '*/testdata/*')
API_PROTO       := $(shell find api -name '*.proto')
# Go import path of each proto file (M options): our protos carry no go_package, so the
# module path never lands inside a generated descriptor (see README, "Creating a service").
API_M           := $(foreach f,$(API_PROTO:api/%=%),M$(f)=$(MODULE)/api/$(patsubst %/,%,$(dir $(f)));$(notdir $(patsubst %/,%,$(dir $(f)))))
CONF_M          := $(foreach f,$(INTERNAL_PROTO:internal/%=%),M$(f)=$(MODULE)/internal/$(patsubst %/,%,$(dir $(f)));$(notdir $(patsubst %/,%,$(dir $(f)))))
join-opts        = $(foreach m,$(2),--$(1)_opt='$(m)')
# Output roots of generated code (the generated-code test points them at a temp dir).
API_OUT         ?= ./api
CONF_OUT        ?= ./internal

PROTOC_GEN_GO_VERSION       := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION  := v1.5.1
PROTOC_GEN_VALIDATE_VERSION := v1.3.3
WIRE_VERSION                := v0.7.0

# LIB is the RocketMQ library module (its own go.mod); MAINT is the template's maintainer
# module (rename tests, app-level reliability tests). make test runs their tests too, when
# they are there (a gonew copy has neither; a service may delete test/).
LIB   := rocketmq
MAINT := test

# ROCKETMQ=host:port[,host:port] points make run and make doctor at a RocketMQ cluster
# (the publisher and the subscriber both: data.rocketmq.name_servers); unset, configs/
# decides (the embedded broker).
ROCKETMQ ?=
RUN_ENV   = $(if $(ROCKETMQ),APP_DATA_ROCKETMQ_NAME_SERVERS=$(ROCKETMQ) )
# ROCKETMQ_VERSION is the apache/rocketmq image tag of deploy/docker-compose.yaml (4.9.4 is
# the version tested here; 5.x brokers serve the same remoting protocol).
ROCKETMQ_VERSION ?= 4.9.4
COMPOSE       = ROCKETMQ_VERSION=$(ROCKETMQ_VERSION) docker compose -f deploy/docker-compose.yaml
COMPOSE_APP   = $(COMPOSE) -f deploy/docker-compose.app.yaml --profile app

# The Kratos HTTP and errors plugins come from the library (the Go module proxy does not
# serve Kratos' own); built from this module, so the replace in go.mod applies.
PLUGINS := github.com/kratos-rocketmq/rocketmq/cmd/protoc-gen-go-http github.com/kratos-rocketmq/rocketmq/cmd/protoc-gen-go-errors

##@ The service (what a service made from this template uses)

.PHONY: init
# install protoc plugins and wire at pinned versions (protoc itself: apt-get install protobuf-compiler)
init:
	go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	go install github.com/envoyproxy/protoc-gen-validate@$(PROTOC_GEN_VALIDATE_VERSION)
	go install github.com/google/wire/cmd/wire@$(WIRE_VERSION)

.PHONY: plugins
# build protoc-gen-go-http and protoc-gen-go-errors (from the library) into ./bin
plugins:
	@mkdir -p bin
	go build -o ./bin/ $(PLUGINS)

.PHONY: api
# generate api Go code: messages, gRPC, HTTP bindings, errors, validators (one protoc run per package)
api: plugins
	@set -e; for dir in $(sort $(dir $(API_PROTO))); do \
	  pkg=$$(basename $$dir); \
	  echo "protoc $$dir"; \
	  protoc --proto_path=./api --proto_path=./third_party \
	       --plugin=protoc-gen-go-http=./bin/protoc-gen-go-http \
	       --plugin=protoc-gen-go-errors=./bin/protoc-gen-go-errors \
	       --go_out=paths=source_relative:$(API_OUT) $(call join-opts,go,$(API_M)) \
	       --go-grpc_out=paths=source_relative:$(API_OUT) $(call join-opts,go-grpc,$(API_M)) \
	       --go-http_out=paths=source_relative:$(API_OUT) $(call join-opts,go-http,$(API_M)) \
	       --go-errors_out=paths=source_relative:$(API_OUT) $(call join-opts,go-errors,$(API_M)) \
	       --validate_out=lang=go,paths=source_relative,import_path=$$pkg:$(API_OUT) \
	       $$dir*.proto; \
	done

.PHONY: config
# generate internal/conf Go code from conf.proto
config:
	protoc --proto_path=./internal --proto_path=./third_party \
	       --go_out=paths=source_relative:$(CONF_OUT) $(call join-opts,go,$(CONF_M)) \
	       $(INTERNAL_PROTO)

.PHONY: generate
# run go generate (wire for cmd/app, at the version go.mod pins), then tidy go.mod
generate:
	go generate ./...
	go mod tidy

.PHONY: all
# generate everything: api, config, wire
all: api config generate

.PHONY: build
# build the binaries of cmd/ into ./bin
build:
	@mkdir -p bin
	go build -ldflags "-X main.Version=$(VERSION)" -o ./bin/ ./cmd/...

.PHONY: run
# build and start the app with configs/ (embedded RocketMQ broker, SQLite under ./data); ROCKETMQ=127.0.0.1:9876 uses that cluster
run: build
	$(RUN_ENV)./bin/app -conf ./configs

.PHONY: test
# run the tests of the service, the library and the maintainer module, race detector on (go test ./... runs the service's only)
test:
	go test -race -timeout 15m ./...
	go test -run NoRace -timeout 10m ./...
	@if [ -f $(LIB)/go.mod ]; then set -x; \
	  cd $(LIB) && go test -race -timeout 15m ./... && go test -run NoRace -timeout 10m ./...; fi
	@if [ -f $(MAINT)/go.mod ]; then set -x; \
	  cd $(MAINT) && go test -race -timeout 15m ./... && go test -run NoRace -timeout 10m ./...; fi

.PHONY: lint
# gofmt and go vet (every module)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^third_party/')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if [ -f $(LIB)/go.mod ]; then set -x; cd $(LIB) && go vet ./...; fi
	@if [ -f $(MAINT)/go.mod ]; then set -x; cd $(MAINT) && go vet ./...; fi

.PHONY: doctor
# check the RocketMQ connection of configs/ (name servers, routes, broker reachability); ROCKETMQ=127.0.0.1:9876 checks that cluster
doctor: build
	$(RUN_ENV)./bin/app doctor -conf ./configs

.PHONY: rocketmq-up
# start RocketMQ in Docker (name server :9876, broker :10911, dashboard :8080) and wait until healthy; ROCKETMQ_VERSION, BROKER_IP1 to override
rocketmq-up:
	$(COMPOSE) up -d --wait

.PHONY: rocketmq-down
# stop and remove the RocketMQ containers of rocketmq-up (the broker's store goes with them)
rocketmq-down:
	$(COMPOSE) down

.PHONY: docker-up
# start RocketMQ and the app, all in containers (compose profile app; the app on :8000 and :9000)
docker-up:
	$(COMPOSE_APP) up -d --build --wait

.PHONY: docker-down
# stop and remove the containers of docker-up (the app's volume kept; add -v by hand to drop it)
docker-down:
	$(COMPOSE_APP) down

##@ The template and the library (maintainers: rocketmq/ and test/)

.PHONY: test-copies
# rename this template (kratos new, make new, gonew) into temp dirs and run each copy's go test ./... in full (~8 min)
test-copies:
	cd $(MAINT) && NEWSERVICE_FULL_TESTS=1 go test -count=1 -timeout 30m -run TestRenamedServices -v ./newservice/

.PHONY: new
# copy this template into a new service: make new NAME=shop MODULE=example.com/acme/shop [OUT=../shop]
new:
	@test -n "$(MODULE)" || { echo "usage: make new NAME=shop MODULE=example.com/acme/shop [OUT=dir]"; exit 2; }
	cd $(MAINT) && go run ./newservice -src .. -module $(MODULE) -out $(abspath $(or $(OUT),../$(or $(NAME),$(notdir $(MODULE)))))

.PHONY: reliability
# run the reliability suites (library: transport and broker faults; maintainer: app crash, bad input) in their long form
reliability:
	cd $(LIB) && RELIABILITY_LONG=1 go test -race -count=1 -timeout 40m -v ./test/reliability/
	cd $(LIB) && RELIABILITY_LONG=1 go test -run NoRace -count=1 -timeout 20m -v ./test/reliability/
	cd $(MAINT) && RELIABILITY_LONG=1 go test -race -count=1 -timeout 40m -v ./reliability/

.PHONY: soak
# 10 minutes of messages at a fixed rate on loopback; fails on loss or memory/goroutine growth (not in CI)
soak:
	cd $(LIB) && go test -tags soak -run TestSoak -count=1 -timeout 20m -v ./test/reliability/

FUZZTIME ?= 30s
.PHONY: fuzz
# run every fuzz target of the repository for FUZZTIME each (default 30s; CI runs only the seed corpora)
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  mod=.; case $$dir in ./$(LIB)/*) mod=$(LIB); dir=./$${dir#./$(LIB)/};; ./$(MAINT)/*) mod=$(MAINT); dir=./$${dir#./$(MAINT)/};; esac; \
	  for f in $$(grep -h '^func Fuzz' $$mod/$$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$mod $$dir $$f ($(FUZZTIME))"; \
	    (cd $$mod && go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir); \
	  done; \
	done

.PHONY: bench
# raw client vs this stack (and the v5 driver beside it), figures as ratios (short: about 2 min); prints a table, writes bench/results.md
bench:
	cd $(LIB) && go run ./cmd/rmqbench -short

.PHONY: bench-full
# the full benchmark run: 100,000-message drains, longer windows (about 10 min)
bench-full:
	cd $(LIB) && go run ./cmd/rmqbench

.PHONY: bench-go
# the packages' Go micro-benchmarks (testing.B)
bench-go:
	go test -run '^$$' -bench . -benchtime 2s ./...
	cd $(LIB) && go test -run '^$$' -bench . -benchtime 2s ./...

# show help
help:
	@echo ''
	@echo 'Usage:'
	@echo ' make [target]'
	@awk '/^##@ / { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } \
	/^[a-zA-Z0-9_-]+:/ { \
	helpMessage = match(lastLine, /^# (.*)/); \
		if (helpMessage) { \
			helpCommand = substr($$1, 0, index($$1, ":")); \
			helpMessage = substr(lastLine, RSTART + 2, RLENGTH); \
			printf "\033[36m%-22s\033[0m %s\n", helpCommand,helpMessage; \
		} \
	} \
	{ lastLine = $$0 }' $(MAKEFILE_LIST)

.DEFAULT_GOAL := help

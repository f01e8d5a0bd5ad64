#!/usr/bin/env bash
# Generates the Go code of the RocketMQ 5 gRPC protocol (package v2) from the
# .proto files in proto/ into the directory given as $1 (default: v2/).
# Run by `go generate ./protocol/...` and by v2's staleness test, which points
# it at a temporary directory. Needs protoc and the protoc plugins the root
# Makefile pins (`make init`): protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.5.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/v2}"
mkdir -p "$out"
pkg="github.com/kratos-rocketmq/rocketmq/protocol/v2"
m=""
for f in definition service admin; do
  m="$m,Mapache/rocketmq/v2/$f.proto=$pkg;v2"
done
m="${m#,}"
protoc --proto_path="$here/proto" \
  --go_out="$out" --go_opt="module=$pkg,$m" \
  --go-grpc_out="$out" --go-grpc_opt="module=$pkg,$m" \
  apache/rocketmq/v2/definition.proto apache/rocketmq/v2/service.proto apache/rocketmq/v2/admin.proto

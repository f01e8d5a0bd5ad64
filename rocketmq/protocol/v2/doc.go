// Package v2 is the RocketMQ 5 gRPC protocol (apache.rocketmq.v2): the
// messages and the MessagingService and Admin services that the 5.x proxy
// serves and the apache/rocketmq-clients SDKs speak, generated from the
// public definitions in apache/rocketmq-apis (copied to ../proto, see
// ../README.md for the upstream commit).
//
// The embedded broker (minirocketmq, WithGRPCAddr) serves MessagingService
// with it; a client dials the endpoint and uses NewMessagingServiceClient.
// The proto package and service names are the upstream ones, so the
// official SDKs and this package interoperate on the wire.
//
// The code is generated: edit nothing here. Regenerate with
// `go generate ./protocol/...` in the library module (protoc and the
// plugins of `make init`); TestGeneratedCodeIsCurrent fails when the
// committed files differ from a fresh generation.
package v2

//go:generate ../generate.sh

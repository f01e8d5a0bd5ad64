// Package tools holds this repository's code generators (protoc-gen-go-http,
// protoc-gen-go-errors) and the test that keeps generated code current.
package tools

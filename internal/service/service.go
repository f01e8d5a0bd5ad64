// Package service adapts the API (HTTP/gRPC, generated from api/) and the event subscriptions
// to the biz use cases: it converts between wire types and domain types, nothing more.
package service

import "github.com/google/wire"

// ProviderSet is service providers.
var ProviderSet = wire.NewSet(NewOrderService, NewEventHandlers)

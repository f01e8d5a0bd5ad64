// Package biz is the domain layer: the Order aggregate, its use cases and the ports (interfaces)
// that the data layer implements. It depends on nothing but the API's error reasons.
package biz

import "github.com/google/wire"

// ProviderSet is biz providers.
var ProviderSet = wire.NewSet(NewOrderUsecase)

package minirocketmq

import (
	"strings"

	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/message"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/store"
)

// Expression types of a subscription (ExpressionType).
const (
	ExpressionTag   = "TAG"
	ExpressionSQL92 = "SQL92"
	subscribeAll    = "*"
)

// subscription is one topic's subscription of a consumer group
// (SubscriptionData), with the filter pulls use.
type subscription struct {
	Topic          string
	SubString      string
	ExpressionType string
	SubVersion     int64
	Tags           []string
	filter         store.Filter // nil: everything matches
}

// newSubscription builds a subscription and its filter. It returns the
// remark of the error response when the expression cannot be served.
//
// This is the filter seam: TAG expressions are handled here; an SQL92
// filter plugs in by building another store.Filter for that expression type.
func newSubscription(topic, expr, exprType string, subVersion int64) (*subscription, string) {
	if exprType == "" {
		exprType = ExpressionTag
	}
	s := &subscription{Topic: topic, SubString: expr, ExpressionType: exprType, SubVersion: subVersion}
	switch exprType {
	case ExpressionTag:
		s.Tags = parseTags(expr)
		if len(s.Tags) > 0 {
			s.filter = newTagFilter(s.Tags)
		}
		return s, ""
	default:
		return nil, remarkf(msgFilterTypeUnsupported, exprType)
	}
}

// parseTags splits "a || b" into its tags; "*" or "" means all (nil).
func parseTags(expr string) []string {
	expr = strings.TrimSpace(expr)
	if expr == "" || expr == subscribeAll {
		return nil
	}
	var tags []string
	for _, t := range strings.Split(expr, "||") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// tagFilter matches the tag code in the queue index first, then the exact
// tag string in the record, so hash collisions never leak through.
type tagFilter struct {
	tags  []string
	codes []int64
}

func newTagFilter(tags []string) *tagFilter {
	f := &tagFilter{tags: tags}
	for _, t := range tags {
		f.codes = append(f.codes, message.TagsHashCode(t))
	}
	return f
}

func (f *tagFilter) MatchTagsCode(code int64) bool {
	for _, c := range f.codes {
		if c == code {
			return true
		}
	}
	return false
}

func (f *tagFilter) MatchRecord(rec []byte) bool {
	props, ok := message.RecordProperties(rec)
	if !ok {
		return false
	}
	tag, ok := message.PropertyBytes(props, message.PropertyTags)
	if !ok {
		return false
	}
	for _, t := range f.tags {
		if t == string(tag) {
			return true
		}
	}
	return false
}

package minirocketmq

import (
	"strings"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/sql92"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
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
	// sqlErr is why an SQL92 expression does not compile. The subscription
	// is registered all the same, as the real broker registers it, and
	// its pulls are refused (see PULL_MESSAGE).
	sqlErr error
}

// newSubscription builds a subscription and its filter: a tag filter, or
// an SQL92 one (sql92.go; a broken expression gives a subscription whose
// pulls are refused). It returns the remark of the error response when the
// expression type cannot be served at all.
func (b *Broker) newSubscription(topic, expr, exprType string, subVersion int64) (*subscription, string) {
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
	case ExpressionSQL92:
		if !b.cfg.propertyFilter {
			return nil, remarkf(msgFilterTypeUnsupported, exprType)
		}
		e, err := sql92.Compile(expr)
		if err != nil {
			s.sqlErr = err
			return s, ""
		}
		s.filter = sqlFilter{e}
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

// sqlFilter selects by an SQL92 expression over the record's properties;
// the index's tag codes say nothing about it.
type sqlFilter struct{ e *sql92.Expr }

func (sqlFilter) MatchTagsCode(int64) bool { return true }

func (f sqlFilter) MatchRecord(rec []byte) bool {
	props, ok := message.RecordProperties(rec)
	if !ok {
		return false
	}
	return f.e.Match(func(name string) (string, bool) {
		v, ok := message.PropertyBytes(props, name)
		return string(v), ok
	})
}

// Package sql92 is the SQL92 message selector of RocketMQ
// (MessageSelector{Type: SQL92}): the grammar of the Java broker's filter
// module (SelectorParser.jj) and its evaluation semantics, over a message's
// properties (user properties and the system ones such as TAGS and KEYS,
// all strings).
//
//	e, err := sql92.Compile("a > 5 AND b = 'x'")
//	ok := e.Match(func(name string) (string, bool) { ... })
//
// Grammar: OR, AND, NOT; =, <> (no !=), >, >=, <, <=; [NOT] BETWEEN x AND y;
// [NOT] IN ('s', ...) on a property; IS [NOT] NULL; + and - signs;
// parentheses; literals 'string' (” for a quote), integers (Integer, or
// Long when larger; an l/L suffix allowed), decimals (Double), TRUE, FALSE,
// NULL; identifiers [a-zA-Z_$][a-zA-Z0-9_$]*; keywords in any case; "--"
// line and /* */ block comments.
//
// Semantics, as the Java classes have them:
//   - A missing property is NULL; comparisons with NULL are NULL (unknown),
//     AND/OR/NOT use three-valued logic, and only TRUE selects a message.
//     a = b is TRUE when both are missing; IS NULL tests for a missing one.
//   - Property values are strings: compared with a number they are parsed
//     as that number's type (an Integer literal makes "5.5" or "9999999999"
//     fail, which deselects the message); two properties are ordered as
//     doubles; strings are never ordered (a > 'x' does not compile).
//   - BETWEEN needs numeric bounds with low <= high; IN takes string
//     literals and a property; a property alone as a condition is never
//     TRUE (it is not a Boolean).
//   - The parser stops after the first complete expression and ignores
//     what follows (the grammar has no end-of-input token): "a > 5 b"
//     compiles as "a > 5". It looks one token ahead, so a character that
//     cannot start a token right after the expression is an error.
//   - A float literal must lie between Double.MIN_VALUE and MAX_VALUE, so
//     0.0 does not compile.
package sql92

import "fmt"

// Properties looks a message property up by name.
type Properties func(name string) (string, bool)

// Expr is a compiled selector; it is immutable and safe for concurrent
// use.
type Expr struct {
	root node
	src  string
}

// Compile parses a selector as the real broker does. The error is an
// *Error whose text is the Java cause of the real broker's refusal. A
// selector nested deeper than MaxDepth fails as it does in Java
// (java.lang.StackOverflowError); one longer than MaxLength bytes is
// refused before it is parsed.
func Compile(expr string) (*Expr, error) {
	if len(expr) > MaxLength {
		return nil, &Error{Class: classRuntimeException, Msg: fmt.Sprintf("The expression is %d bytes long, longer than the limit of %d bytes", len(expr), MaxLength)}
	}
	p := &parser{lx: newLexer(expr)}
	n, err := p.selector()
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, src: expr}, nil
}

// Match reports whether the selector is TRUE for a message with props.
// NULL (unknown), FALSE and an evaluation failure (a property that does
// not parse as the number it is compared with) do not match.
func (e *Expr) Match(props Properties) bool {
	v, err := e.root.eval(props)
	b, ok := v.(bool)
	return err == nil && ok && b
}

// Evaluate returns the selector's value for a message: true, false or nil
// (NULL), or the error that made the Java broker's evaluation fail.
func (e *Expr) Evaluate(props Properties) (any, error) { return e.root.eval(props) }

// String returns the selector as compiled, in the Java classes' toString
// notation (fully parenthesised, = written ==, AND &&, OR ||).
func (e *Expr) String() string { return e.root.String() }

// Source returns the selector as written.
func (e *Expr) Source() string { return e.src }

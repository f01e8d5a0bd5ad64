package sql92

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Java exception classes named in compile errors.
const (
	classParseException    = "org.apache.rocketmq.filter.parser.ParseException"
	classTokenMgrError     = "org.apache.rocketmq.filter.parser.TokenMgrError"
	classRuntimeException  = "java.lang.RuntimeException"
	classNumberFormatError = "java.lang.NumberFormatException"
	classStackOverflow     = "java.lang.StackOverflowError"
)

// Limits of Compile, so that a selector from the network cannot exhaust
// the stack or the CPU.
const (
	// MaxDepth is how deeply parentheses, NOT and signs may nest. The
	// Java parser (4.9.4, 1 MiB thread stack) handles 1,000 nested
	// parentheses and overflows its stack at 2,000; a deeper selector
	// fails as it does there, with the cause java.lang.StackOverflowError.
	MaxDepth = 1024
	// MaxLength is the longest selector compiled, in bytes (the Java
	// broker has no such limit; its frames are up to 16 MiB).
	MaxLength = 64 << 10
)

// Error is a compile error. Its text is what the Java broker puts in the
// remark of SUBSCRIPTION_PARSE_FAILED: the cause's class and message.
// Messages of semantic errors ("Value ”x” cannot be compared.") are the
// Java ones; those of syntax errors follow JavaCC's format but list fewer
// expected tokens.
type Error struct {
	Class string
	Msg   string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Class // Throwable.toString without a message
	}
	return e.Class + ": " + e.Msg
}

func runtimeErr(format string, args ...any) *Error {
	return &Error{Class: classRuntimeException, Msg: fmt.Sprintf(format, args...)}
}

// parser is SelectorParser: recursive descent over the lexer's tokens with
// the .jj file's productions, one token of lookahead (two where the
// grammar says LOOKAHEAD(2)).
type parser struct {
	lx    *lexer
	toks  []token // lookahead
	depth int     // nesting of unary, which every parenthesis goes through
}

func (p *parser) peek(i int) (token, error) {
	for len(p.toks) <= i {
		t, err := p.lx.next()
		if err != nil {
			return token{}, err
		}
		p.toks = append(p.toks, t)
	}
	return p.toks[i], nil
}

func (p *parser) peekKind() (kind, error) {
	t, err := p.peek(0)
	return t.kind, err
}

func (p *parser) take() token {
	t := p.toks[0]
	p.toks = p.toks[1:]
	return t
}

func (p *parser) expect(k kind) (token, error) {
	t, err := p.peek(0)
	if err != nil {
		return t, err
	}
	if t.kind != k {
		return t, unexpected(t, k)
	}
	return p.take(), nil
}

// unexpected is a ParseException in JavaCC's words.
func unexpected(t token, expected ...kind) error {
	var b strings.Builder
	b.WriteString(`Encountered "`)
	if t.kind == tEOF {
		b.WriteString(tokenImage[tEOF])
	} else {
		fmt.Fprintf(&b, ` %s "%s "`, tokenImage[t.kind], t.image)
	}
	fmt.Fprintf(&b, `" at line %d, column %d.`, t.line, t.col)
	if len(expected) > 0 {
		b.WriteString("\nWas expecting one of:\n")
		for _, k := range expected {
			b.WriteString("    " + tokenImage[k] + " ...\n")
		}
	}
	return &Error{Class: classParseException, Msg: b.String()}
}

// asBoolean is SelectorParser.asBooleanExpression.
func asBoolean(n node) (node, error) {
	switch x := n.(type) {
	case booleanNode:
		return x, nil
	case *property:
		return &boolCast{x}, nil
	}
	return nil, &Error{Class: classParseException, Msg: "Expression will not result in a boolean value: " + n.String()}
}

func (p *parser) selector() (node, error) {
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	return asBoolean(n)
}

func (p *parser) or() (node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		if k, err := p.peekKind(); err != nil || k != tOR {
			return left, err
		}
		p.take()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		if left, err = newLogic(false, left, right); err != nil {
			return nil, err
		}
	}
}

func (p *parser) and() (node, error) {
	left, err := p.equality()
	if err != nil {
		return nil, err
	}
	for {
		if k, err := p.peekKind(); err != nil || k != tAND {
			return left, err
		}
		p.take()
		right, err := p.equality()
		if err != nil {
			return nil, err
		}
		if left, err = newLogic(true, left, right); err != nil {
			return nil, err
		}
	}
}

func newLogic(and bool, left, right node) (node, error) {
	l, err := asBoolean(left)
	if err != nil {
		return nil, err
	}
	r, err := asBoolean(right)
	if err != nil {
		return nil, err
	}
	return &logic{and: and, left: l, right: r}, nil
}

func (p *parser) equality() (node, error) {
	left, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for {
		k, err := p.peekKind()
		if err != nil {
			return nil, err
		}
		switch k {
		case tEq, tNe:
			p.take()
			right, err := p.comparison()
			if err != nil {
				return nil, err
			}
			eq, err := newEqual(left, right)
			if err != nil {
				return nil, err
			}
			left = eq
			if k == tNe {
				left = &not{eq}
			}
		case tIS:
			next, err := p.peek(1)
			if err != nil {
				return nil, err
			}
			p.take()
			isNull := &comparison{op: opEq, left: left, right: &boolConst{constant{nil}}}
			if next.kind == tNULL {
				p.take()
				left = isNull
				continue
			}
			if _, err := p.expect(tNOT); err != nil {
				return nil, err
			}
			if _, err := p.expect(tNULL); err != nil {
				return nil, err
			}
			left = &not{isNull}
		default:
			return left, nil
		}
	}
}

// newEqual is ComparisonExpression.createEqual with its operand checks.
func newEqual(left, right node) (node, error) {
	for _, x := range []node{left, right} {
		if c := asConstant(x); c != nil && c.v == nil {
			return nil, runtimeErr("'%s' cannot be compared.", x)
		}
	}
	lc, rc := asConstant(left), asConstant(right)
	if lc != nil && rc != nil {
		_, lb := left.(booleanNode)
		_, rb := right.(booleanNode)
		if lb && !rb {
			return nil, runtimeErr("'%s' cannot be compared with '%s'", left, right)
		}
	}
	return &comparison{op: opEq, left: left, right: right}, nil
}

func asConstant(n node) *constant {
	switch c := n.(type) {
	case *constant:
		return c
	case *boolConst:
		return &c.constant
	}
	return nil
}

// newOrdering is createGreaterThan etc., with checkLessThanOperand: only
// numbers (constant or not) can be ordered.
func newOrdering(o op, left, right node) (node, error) {
	for _, x := range []node{left, right} {
		if c := asConstant(x); c != nil {
			switch c.v.(type) {
			case int32, int64, float64:
				continue
			}
			return nil, runtimeErr("Value '%s' cannot be compared.", x)
		}
		if _, ok := x.(booleanNode); ok {
			return nil, runtimeErr("Value '%s' cannot be compared.", x)
		}
	}
	return &comparison{op: o, left: left, right: right}, nil
}

func (p *parser) comparison() (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek(0)
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tGt, tGe, tLt, tLe:
			p.take()
			right, err := p.unary()
			if err != nil {
				return nil, err
			}
			o := map[kind]op{tGt: opGt, tGe: opGe, tLt: opLt, tLe: opLe}[t.kind]
			if left, err = newOrdering(o, left, right); err != nil {
				return nil, err
			}
			continue
		case tBETWEEN:
			p.take()
			if left, err = p.between(left, false); err != nil {
				return nil, err
			}
			continue
		case tIN:
			p.take()
			if left, err = p.inList(left, false); err != nil {
				return nil, err
			}
			continue
		case tNOT:
			next, err := p.peek(1)
			if err != nil {
				return nil, err
			}
			switch next.kind {
			case tBETWEEN:
				p.take()
				p.take()
				if left, err = p.between(left, true); err != nil {
					return nil, err
				}
				continue
			case tIN:
				p.take()
				p.take()
				if left, err = p.inList(left, true); err != nil {
					return nil, err
				}
				continue
			}
			// JavaCC entered the loop on NOT and finds neither BETWEEN
			// nor IN after it.
			return nil, unexpected(next, tBETWEEN, tIN)
		}
		return left, nil
	}
}

// between parses "low AND high" after BETWEEN: createBetween is
// value >= low AND value <= high (with a check of constant bounds),
// createNotBetween value < low OR value > high.
func (p *parser) between(value node, negated bool) (node, error) {
	low, err := p.unary()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tAND); err != nil {
		return nil, err
	}
	high, err := p.unary()
	if err != nil {
		return nil, err
	}
	if negated {
		lt, err := newOrdering(opLt, value, low)
		if err != nil {
			return nil, err
		}
		gt, err := newOrdering(opGt, value, high)
		if err != nil {
			return nil, err
		}
		return &logic{and: false, left: lt.(booleanNode), right: gt.(booleanNode)}, nil
	}
	lc, hc := asConstant(low), asConstant(high)
	if lc != nil && hc != nil {
		if lc.v == nil || hc.v == nil {
			return nil, runtimeErr("Illegal values of between, values can not be null!")
		}
		n, err := compare(hc.v, lc.v)
		if err != nil {
			return nil, runtimeErr("%s", strings.TrimPrefix(err.Error(), errEval.Error()+": "))
		}
		if n < 0 {
			return nil, runtimeErr("Illegal values of between, left value(%s) must less than or equal to right value(%s)", javaString(lc.v), javaString(hc.v))
		}
	}
	ge, err := newOrdering(opGe, value, low)
	if err != nil {
		return nil, err
	}
	le, err := newOrdering(opLe, value, high)
	if err != nil {
		return nil, err
	}
	return &logic{and: true, left: ge.(booleanNode), right: le.(booleanNode)}, nil
}

// inList parses "( 'a', 'b' )" after IN; only a property can be tested.
func (p *parser) inList(left node, negated bool) (node, error) {
	if _, err := p.expect(tLParen); err != nil {
		return nil, err
	}
	var values []string
	for {
		t, err := p.expect(tString)
		if err != nil {
			return nil, err
		}
		values = append(values, unquote(t.image))
		k, err := p.peekKind()
		if err != nil {
			return nil, err
		}
		if k != tComma {
			break
		}
		p.take()
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	prop, ok := left.(*property)
	if !ok {
		return nil, runtimeErr("Expected a property for In expression, got: %s", left)
	}
	return &in{prop: prop, values: values, not: negated}, nil
}

func (p *parser) unary() (node, error) {
	if p.depth++; p.depth > MaxDepth {
		return nil, &Error{Class: classStackOverflow}
	}
	defer func() { p.depth-- }()
	k, err := p.peekKind()
	if err != nil {
		return nil, err
	}
	switch k {
	case tPlus:
		p.take()
		return p.unary()
	case tMinus:
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &negate{x}, nil
	case tNOT:
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		b, err := asBoolean(x)
		if err != nil {
			return nil, err
		}
		return &not{b}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t, err := p.peek(0)
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tString:
		p.take()
		return &constant{unquote(t.image)}, nil
	case tDecimal:
		p.take()
		return decimal(t.image)
	case tFloat:
		p.take()
		return float(t.image)
	case tTRUE, tFALSE:
		p.take()
		return &boolConst{constant{t.kind == tTRUE}}, nil
	case tNULL:
		p.take()
		return &boolConst{constant{nil}}, nil
	case tID:
		p.take()
		return &property{t.image}, nil
	case tLParen:
		p.take()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, unexpected(t, tString, tDecimal, tFloat, tTRUE, tFALSE, tNULL, tID, tLParen, tPlus, tMinus, tNOT)
}

// unquote decodes a STRING_LITERAL: quotes off, ” → '.
func unquote(image string) string {
	return strings.ReplaceAll(image[1:len(image)-1], "''", "'")
}

// decimal is ConstantExpression.createFromDecimal: a Long, narrowed to an
// Integer when it fits.
func decimal(image string) (node, error) {
	text := strings.TrimRight(image, "lL")
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, &Error{Class: classNumberFormatError, Msg: fmt.Sprintf("For input string: %q", text)}
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return &constant{int32(n)}, nil
	}
	return &constant{n}, nil
}

// float is ConstantExpression.createFloat, which refuses values above
// Double.MAX_VALUE and below Double.MIN_VALUE (the smallest positive double,
// so 0.0 is refused too, as in the real broker).
func float(image string) (node, error) {
	f, err := strconv.ParseFloat(image, 64)
	if err != nil && !isRangeErr(err) {
		return nil, &Error{Class: classNumberFormatError, Msg: fmt.Sprintf("For input string: %q", image)}
	}
	if f > math.MaxFloat64 {
		return nil, runtimeErr("%s is greater than 1.7976931348623157E308", image)
	}
	if f < math.SmallestNonzeroFloat64 {
		return nil, runtimeErr("%s is less than 4.9E-324", image)
	}
	return &constant{f}, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

package sql92

import (
	"strings"
)

// node is an expression of the tree the parser builds (the Java filter
// module's Expression classes). eval returns a value (see value.go) or an
// evaluation failure; String renders it as Java's toString does, for error
// messages.
type node interface {
	eval(props Properties) (value, error)
	String() string
}

// booleanNode marks the nodes that are BooleanExpressions in Java.
type booleanNode interface {
	node
	isBoolean()
}

// constant is a ConstantExpression; boolConst (TRUE, FALSE, NULL) is a
// BooleanConstantExpression.
type constant struct{ v value }

func (c *constant) eval(Properties) (value, error) { return c.v, nil }

func (c *constant) String() string {
	switch x := c.v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return javaString(c.v)
}

type boolConst struct{ constant }

func (*boolConst) isBoolean() {}

// property is a PropertyExpression: the value of a message property.
type property struct{ name string }

func (p *property) eval(props Properties) (value, error) {
	if v, ok := props(p.name); ok {
		return v, nil
	}
	return nil, nil
}

func (p *property) String() string { return p.name }

// logic is AND / OR with SQL's three-valued logic (LogicExpression).
type logic struct {
	and         bool
	left, right node
}

func (*logic) isBoolean() {}

func (l *logic) eval(props Properties) (value, error) {
	lv, err := evalBool(l.left, props)
	if err != nil {
		return nil, err
	}
	if lv != nil && *lv != l.and { // FALSE for AND, TRUE for OR decides
		return !l.and, nil
	}
	rv, err := evalBool(l.right, props)
	if err != nil {
		return nil, err
	}
	if rv != nil && *rv != l.and {
		return !l.and, nil
	}
	if lv == nil || rv == nil {
		return nil, nil
	}
	return l.and, nil
}

func (l *logic) String() string {
	sym := "||"
	if l.and {
		sym = "&&"
	}
	return "(" + l.left.String() + " " + sym + " " + l.right.String() + ")"
}

// evalBool evaluates a node whose value Java casts to Boolean: nil for
// null, a failure for a non-boolean (ClassCastException).
func evalBool(n node, props Properties) (*bool, error) {
	v, err := n.eval(props)
	if err != nil || v == nil {
		return nil, err
	}
	b, ok := v.(bool)
	if !ok {
		return nil, evalErr("%s is not a boolean", javaString(v))
	}
	return &b, nil
}

// not is UnaryExpression.createNOT.
type not struct{ x node }

func (*not) isBoolean() {}

func (n *not) eval(props Properties) (value, error) {
	b, err := evalBool(n.x, props)
	if err != nil || b == nil {
		return nil, err
	}
	return !*b, nil
}

func (n *not) String() string { return "(NOT " + n.x.String() + ")" }

// boolCast is UnaryExpression.createBooleanCast: a property used as a
// condition is TRUE only if its value is the Boolean TRUE, which a message
// property (a string) never is.
type boolCast struct{ x node }

func (*boolCast) isBoolean() {}

func (c *boolCast) eval(props Properties) (value, error) {
	v, err := c.x.eval(props)
	if err != nil || v == nil {
		return nil, err
	}
	b, ok := v.(bool)
	return ok && b, nil
}

func (c *boolCast) String() string { return c.x.String() }

// negate is UnaryExpression.createNegate.
type negate struct{ x node }

func (n *negate) eval(props Properties) (value, error) {
	v, err := n.x.eval(props)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int32:
		return -x, nil
	case int64:
		return -x, nil
	case float64:
		return -x, nil
	}
	return nil, nil
}

func (n *negate) String() string { return "(- " + n.x.String() + ")" }

// in is UnaryInExpression: the property's string value in (or not in) a
// list of strings.
type in struct {
	prop   *property
	values []string
	not    bool
}

func (*in) isBoolean() {}

func (n *in) eval(props Properties) (value, error) {
	v, err := n.prop.eval(props)
	if err != nil || v == nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, nil
	}
	found := false
	for _, x := range n.values {
		if x == s {
			found = true
			break
		}
	}
	return found != n.not, nil
}

func (n *in) String() string {
	sym := "IN"
	if n.not {
		sym = "NOT IN"
	}
	return n.prop.String() + " " + sym + " ( " + strings.Join(n.values, ", ") + " )"
}

// op is a comparison operator.
type op int

const (
	opEq op = iota
	opGt
	opGe
	opLt
	opLe
)

var opSymbols = [...]string{"==", ">", ">=", "<", "<="}

// comparison is ComparisonExpression: equality (doCreateEqual) or an
// ordering.
type comparison struct {
	op          op
	left, right node
}

func (*comparison) isBoolean() {}

func (c *comparison) String() string {
	return "(" + c.left.String() + " " + opSymbols[c.op] + " " + c.right.String() + ")"
}

func (c *comparison) eval(props Properties) (value, error) {
	lv, err := c.left.eval(props)
	if err != nil {
		return nil, err
	}
	if c.op == opEq {
		rv, err := c.right.eval(props)
		if err != nil {
			return nil, err
		}
		switch {
		case (lv == nil) != (rv == nil):
			if lv == nil {
				return nil, nil
			}
			return false, nil
		case lv == nil || javaEquals(lv, rv):
			return true, nil
		}
		n, err := compare(lv, rv)
		if err != nil {
			return nil, err
		}
		return n == 0, nil
	}
	if lv == nil {
		return nil, nil
	}
	rv, err := c.right.eval(props)
	if err != nil || rv == nil {
		return nil, err
	}
	var n int
	ls, lok := lv.(string)
	rs, rok := rv.(string)
	if lok && rok {
		// Strings are compared as numbers or not at all.
		a, err := javaParseDouble(ls)
		if err != nil {
			return nil, err
		}
		b, err := javaParseDouble(rs)
		if err != nil {
			return nil, err
		}
		n = compareDouble(a, b)
	} else if n, err = compare(lv, rv); err != nil {
		return nil, err
	}
	switch c.op {
	case opGt:
		return n > 0, nil
	case opGe:
		return n >= 0, nil
	case opLt:
		return n < 0, nil
	}
	return n <= 0, nil
}

package sql92

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Values are what Java's expressions produce: nil (null), string (String,
// all property values), bool (Boolean), int32 (Integer), int64 (Long) and
// float64 (Double). Numeric literals are Integer when they fit, else Long;
// floating literals are Double.
type value = any

// errEval is an evaluation failure (an exception in the Java broker): the
// message does not match.
var errEval = errors.New("sql92: evaluation failed")

func evalErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errEval, fmt.Sprintf(format, args...))
}

// javaEquals is Object.equals between two values: same type, same value
// (Double: bit equality, so NaN equals NaN and 0.0 does not equal -0.0).
func javaEquals(a, b value) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case string, bool, int32, int64:
		return a == b
	}
	return false
}

// compare is ComparisonExpression.__compare with convertStringExpressions
// on (as every expression the parser builds has it): values of different
// types are converted towards each other as Java does, or the comparison
// answers -1; a string that does not parse as the number it is compared
// with is an evaluation failure.
func compare(lv, rv value) (int, error) {
	switch l := lv.(type) {
	case bool:
		switch rv.(type) {
		case bool:
		case string:
			// Java casts the Boolean to String here: ClassCastException.
			return 0, evalErr("cannot compare a boolean with a string")
		default:
			return -1, nil
		}
	case int32:
		switch r := rv.(type) {
		case int32:
		case int64:
			lv = int64(l)
		case float64:
			lv = float64(l)
		case string:
			n, err := javaParseInt(r, 32)
			if err != nil {
				return 0, err
			}
			rv = int32(n)
		default:
			return -1, nil
		}
	case int64:
		switch r := rv.(type) {
		case int64:
		case int32:
			rv = int64(r)
		case float64:
			lv = float64(l)
		case string:
			n, err := javaParseInt(r, 64)
			if err != nil {
				return 0, err
			}
			rv = n
		default:
			return -1, nil
		}
	case float64:
		switch r := rv.(type) {
		case float64:
		case int32:
			rv = float64(r)
		case int64:
			rv = float64(r)
		case string:
			f, err := javaParseDouble(r)
			if err != nil {
				return 0, err
			}
			rv = f
		default:
			return -1, nil
		}
	case string:
		switch rv.(type) {
		case string:
		case bool:
			lv = strings.EqualFold(l, "true")
		case int32:
			n, err := javaParseInt(l, 32)
			if err != nil {
				return 0, err
			}
			lv = int32(n)
		case int64:
			n, err := javaParseInt(l, 64)
			if err != nil {
				return 0, err
			}
			lv = n
		case float64:
			f, err := javaParseDouble(l)
			if err != nil {
				return 0, err
			}
			lv = f
		default:
			return -1, nil
		}
	default:
		return -1, nil
	}
	return compareSame(lv, rv), nil
}

// compareSame is compareTo between two values of one type.
func compareSame(a, b value) int {
	switch x := a.(type) {
	case string:
		return compareUTF16(x, b.(string))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int32:
		return cmpOrdered(x, b.(int32))
	case int64:
		return cmpOrdered(x, b.(int64))
	case float64:
		return compareDouble(x, b.(float64))
	}
	return -1
}

func cmpOrdered[T int32 | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDouble is Double.compare: NaN is greater than everything and
// equal to itself, -0.0 is less than 0.0.
func compareDouble(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	ab, bb := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if math.IsNaN(a) {
		ab = 0x7ff8000000000000
	}
	if math.IsNaN(b) {
		bb = 0x7ff8000000000000
	}
	return cmpOrdered(ab, bb)
}

// compareUTF16 is String.compareTo: by UTF-16 code units.
func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	x, y := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] != y[i] {
			return int(x[i]) - int(y[i])
		}
	}
	return len(x) - len(y)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// javaParseInt is Integer.valueOf / Long.valueOf: an optional sign and
// decimal digits, nothing else.
func javaParseInt(s string, bits int) (int64, error) {
	if s == "" || strings.ContainsAny(s, "_ ") {
		return 0, evalErr("NumberFormatException: For input string: %q", s)
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, evalErr("NumberFormatException: For input string: %q", s)
	}
	return n, nil
}

// javaParseDouble is Double.valueOf: surrounding white space and control
// characters are ignored, a trailing f/F/d/D is allowed, and NaN and
// Infinity are spelled that way only.
func javaParseDouble(s string) (float64, error) {
	t := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	body := strings.TrimLeft(t, "+-")
	switch body {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if n := len(t); n > 0 && strings.ContainsRune("fFdD", rune(t[n-1])) && !strings.HasPrefix(strings.ToLower(body), "0x") {
		t = t[:n-1]
	}
	lower := strings.ToLower(t)
	if t == "" || strings.Contains(lower, "inf") || strings.Contains(lower, "nan") || strings.Contains(t, "_") {
		return 0, evalErr("NumberFormatException: For input string: %q", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, evalErr("NumberFormatException: For input string: %q", s)
	}
	return f, nil
}

// javaString is String.valueOf of a value, for messages.
func javaString(v value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return javaDouble(x)
	}
	return fmt.Sprint(v)
}

// javaDouble is Double.toString: plain notation between 10^-3 and 10^7,
// else d.dddE±n, always with a fraction digit.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.5E+10
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

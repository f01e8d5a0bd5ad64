package sql92

import (
	"fmt"
	"strings"
)

// kind is a token kind of SelectorParser.jj.
type kind int

const (
	tEOF kind = iota
	tNOT
	tAND
	tOR
	tBETWEEN
	tIN
	tTRUE
	tFALSE
	tNULL
	tIS
	tDecimal
	tFloat
	tString
	tID
	tEq // =
	tNe // <>
	tGt // >
	tGe // >=
	tLt // <
	tLe // <=
	tLParen
	tRParen
	tComma
	tPlus
	tMinus
)

// tokenImage is SelectorParserConstants.tokenImage, for error messages.
var tokenImage = map[kind]string{
	tEOF: "<EOF>", tNOT: `"NOT"`, tAND: `"AND"`, tOR: `"OR"`, tBETWEEN: `"BETWEEN"`, tIN: `"IN"`,
	tTRUE: `"TRUE"`, tFALSE: `"FALSE"`, tNULL: `"NULL"`, tIS: `"IS"`, tDecimal: "<DECIMAL_LITERAL>",
	tFloat: "<FLOATING_POINT_LITERAL>", tString: "<STRING_LITERAL>", tID: "<ID>", tEq: `"="`, tNe: `"<>"`,
	tGt: `">"`, tGe: `">="`, tLt: `"<"`, tLe: `"<="`, tLParen: `"("`, tRParen: `")"`, tComma: `","`,
	tPlus: `"+"`, tMinus: `"-"`,
}

var keywords = map[string]kind{
	"NOT": tNOT, "AND": tAND, "OR": tOR, "BETWEEN": tBETWEEN, "IN": tIN,
	"TRUE": tTRUE, "FALSE": tFALSE, "NULL": tNULL, "IS": tIS,
}

type token struct {
	kind      kind
	image     string
	line, col int
}

// lexer produces tokens on demand, like JavaCC's token manager: the parser
// only ever asks for the tokens it looks at, so a character after the last
// one it needs is never examined.
type lexer struct {
	src       []rune
	pos       int
	line, col int
}

func newLexer(s string) *lexer { return &lexer{src: []rune(s), line: 1, col: 1} }

func (l *lexer) peekRune(off int) rune {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return -1
}

func (l *lexer) advance(n int) {
	for range n {
		if l.src[l.pos] == '\n' {
			l.line, l.col = l.line+1, 1
		} else {
			l.col++
		}
		l.pos++
	}
}

func isLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '$'
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// lexError is the TokenMgrError JavaCC's token manager throws when no
// token matches: the characters [start, fail) matched a token's prefix,
// the one at fail did not continue it (fail == len: the input ended). The
// position and "after" text follow JavaCC's rules, EOF cases included.
func (l *lexer) lexError(start, fail int) error {
	partial := string(l.src[start:fail])
	eof := fail >= len(l.src) || fail == len(l.src)-1 && partial == ""
	if !eof && fail == len(l.src)-1 && partial != "" {
		eof, partial = true, partial+string(l.src[fail])
		fail++
	}
	if eof {
		line, col := l.lineCol(len(l.src) - 1)
		if fail < len(l.src) {
			line, col = l.lineCol(fail)
		}
		if r := l.src[len(l.src)-1]; r == '\n' || r == '\r' {
			line, col = line+1, 0
		} else {
			col++
		}
		after := partial
		if len([]rune(partial)) <= 1 {
			after = ""
		}
		return &Error{Class: classTokenMgrError, Msg: fmt.Sprintf(`Lexical error at line %d, column %d.  Encountered: <EOF> after : "%s"`, line, col, addEscapes(after))}
	}
	line, col := l.lineCol(fail)
	r := l.src[fail]
	return &Error{Class: classTokenMgrError, Msg: fmt.Sprintf(`Lexical error at line %d, column %d.  Encountered: "%s" (%d), after : "%s"`, line, col, addEscapes(string(r)), r, addEscapes(partial))}
}

// lineCol returns the 1-based line and column of the character at pos.
func (l *lexer) lineCol(pos int) (int, int) {
	line, col := 1, 1
	for _, r := range l.src[:pos] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// addEscapes is TokenMgrError.addEscapes.
func addEscapes(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 0:
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '"':
			b.WriteString(`\"`)
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if r < 0x20 || r > 0x7e {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	for {
		// SPECIAL_TOKEN: white space.
		for l.pos < len(l.src) && strings.ContainsRune(" \t\n\r\f", l.src[l.pos]) {
			l.advance(1)
		}
		// SKIP: "--" to the end of a line (only when a line end follows),
		// "/* ... */".
		if l.peekRune(0) == '-' && l.peekRune(1) == '-' {
			if end := indexAny(l.src[l.pos:], '\n', '\r'); end >= 0 {
				n := end + 1
				if l.src[l.pos+end] == '\r' && l.peekRune(end+1) == '\n' {
					n++
				}
				l.advance(n)
				continue
			}
		}
		if l.peekRune(0) == '/' && l.peekRune(1) == '*' {
			if end := indexSeq(l.src[l.pos+2:], '*', '/'); end >= 0 {
				l.advance(end + 4)
				continue
			}
		}
		break
	}
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		t.kind = tEOF
		return t, nil
	}
	r := l.src[l.pos]
	switch {
	case isLetter(r):
		n := 1
		for r := l.peekRune(n); isLetter(r) || isDigit(r); r = l.peekRune(n) {
			n++
		}
		t.image = string(l.src[l.pos : l.pos+n])
		t.kind = tID
		if k, ok := keywords[strings.ToUpper(t.image)]; ok {
			t.kind = k
		}
		l.advance(n)
		return t, nil
	case r == '.' && !isDigit(l.peekRune(1)):
		return t, l.lexError(l.pos, l.pos+1)
	case isDigit(r) || r == '.':
		k, n := l.number()
		t.kind, t.image = k, string(l.src[l.pos:l.pos+n])
		l.advance(n)
		return t, nil
	case r == '\'':
		// STRING_LITERAL: "'" ("''" | ~["'"])* "'", longest match: an
		// unterminated '' ends the literal at its first quote.
		n, complete := 1, 0
		for {
			c := l.peekRune(n)
			if c == -1 {
				break
			}
			n++
			if c == '\'' {
				complete = n
				if l.peekRune(n) == '\'' {
					n++
					continue
				}
				break
			}
		}
		if complete == 0 {
			return t, l.lexError(l.pos, len(l.src))
		}
		n = complete
		t.kind, t.image = tString, string(l.src[l.pos:l.pos+n])
		l.advance(n)
		return t, nil
	}
	ops := []struct {
		s string
		k kind
	}{{"<>", tNe}, {">=", tGe}, {"<=", tLe}, {"=", tEq}, {">", tGt}, {"<", tLt}, {"(", tLParen}, {")", tRParen}, {",", tComma}, {"+", tPlus}, {"-", tMinus}}
	for _, op := range ops {
		if l.hasPrefix(op.s) {
			t.kind, t.image = op.k, op.s
			l.advance(len(op.s))
			return t, nil
		}
	}
	if r == '/' {
		if l.peekRune(1) == '*' { // an unterminated comment
			return t, l.lexError(l.pos, len(l.src))
		}
		return t, l.lexError(l.pos, l.pos+1)
	}
	return t, l.lexError(l.pos, l.pos)
}

func (l *lexer) hasPrefix(s string) bool {
	for i, r := range []rune(s) {
		if l.peekRune(i) != r {
			return false
		}
	}
	return true
}

// number matches the longest DECIMAL_LITERAL or FLOATING_POINT_LITERAL at
// the current position and returns its kind and length (0: none).
func (l *lexer) number() (kind, int) {
	digits := func(at int) int {
		n := 0
		for isDigit(l.peekRune(at + n)) {
			n++
		}
		return n
	}
	exponent := func(at int) int {
		if r := l.peekRune(at); r != 'e' && r != 'E' {
			return 0
		}
		n := 1
		if r := l.peekRune(at + 1); r == '+' || r == '-' {
			n++
		}
		if d := digits(at + n); d > 0 {
			return n + d
		}
		return 0
	}
	// FLOATING_POINT_LITERAL
	floatLen := 0
	if d := digits(0); d > 0 {
		if l.peekRune(d) == '.' {
			n := d + 1 + digits(d+1)
			floatLen = n + exponent(n)
		} else if e := exponent(d); e > 0 {
			floatLen = d + e
		}
	} else if l.peekRune(0) == '.' {
		if d := digits(1); d > 0 {
			floatLen = 1 + d + exponent(1+d)
		}
	}
	// DECIMAL_LITERAL: "0" | [1-9][0-9]* [lL]?
	decLen := 0
	switch r := l.peekRune(0); {
	case r == '0':
		decLen = 1
	case r >= '1' && r <= '9':
		decLen = digits(0)
		if c := l.peekRune(decLen); c == 'l' || c == 'L' {
			decLen++
		}
	}
	if floatLen > decLen {
		return tFloat, floatLen
	}
	return tDecimal, decLen
}

func indexAny(rs []rune, a, b rune) int {
	for i, r := range rs {
		if r == a || r == b {
			return i
		}
	}
	return -1
}

func indexSeq(rs []rune, a, b rune) int {
	for i := 0; i+1 < len(rs); i++ {
		if rs[i] == a && rs[i+1] == b {
			return i
		}
	}
	return -1
}

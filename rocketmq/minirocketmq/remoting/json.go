package remoting

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON header is small and has a fixed shape, so it is parsed and written
// by hand: decoding copies the header once into a string and every key and
// value is a substring of it (escaped strings excepted), and encoding appends
// straight into the output buffer.

// maxJSONDepth bounds the nesting of skipped values (unknown header keys).
const maxJSONDepth = 32

var errJSONSyntax = errors.New("remoting: malformed JSON header")

type jsonScanner struct {
	s     string
	i     int
	depth int
}

func (p *jsonScanner) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errJSONSyntax, what, p.i)
}

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) peek() byte {
	p.ws()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *jsonScanner) consume(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) literal(lit string) bool {
	p.ws()
	if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
		p.i += len(lit)
		return true
	}
	return false
}

// str parses a JSON string. Strings without escapes are returned as
// substrings of the input.
func (p *jsonScanner) str() (string, error) {
	if p.peek() != '"' {
		return "", p.fail("expected string")
	}
	p.i++
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			out := p.s[start:p.i]
			p.i++
			return out, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", p.fail("control character in string")
		}
		p.i++
	}
	return "", p.fail("unterminated string")
}

func (p *jsonScanner) strEscaped(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(p.s)-p.i >= 6 && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						p.i = save
						r2 = -1
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail("bad escape")
		}
	}
	return "", p.fail("unterminated string")
}

func (p *jsonScanner) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c-'a') + 10
		case 'A' <= c && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number returns the raw text of a JSON number.
func (p *jsonScanner) number() (string, error) {
	p.ws()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := 0
	for p.i < len(p.s) {
		c := p.s[p.i]
		if ('0' <= c && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			if '0' <= c && c <= '9' {
				digits++
			}
			p.i++
			continue
		}
		break
	}
	if digits == 0 {
		return "", p.fail("expected number")
	}
	return p.s[start:p.i], nil
}

// integer parses a JSON number that must be an integer within bits.
func (p *jsonScanner) integer(bits int) (int64, error) {
	raw, err := p.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(raw, 10, bits)
	if err != nil {
		return 0, p.fail("integer out of range or not an integer")
	}
	return n, nil
}

// skip skips one JSON value of any kind.
func (p *jsonScanner) skip() error {
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '{' || c == '[':
		p.depth++
		if p.depth > maxJSONDepth {
			return p.fail("nesting too deep")
		}
		defer func() { p.depth-- }()
		p.i++
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		if p.consume(closer) {
			return nil
		}
		for {
			if c == '{' {
				if _, err := p.str(); err != nil {
					return err
				}
				if !p.consume(':') {
					return p.fail("expected ':'")
				}
			}
			if err := p.skip(); err != nil {
				return err
			}
			if p.consume(',') {
				continue
			}
			if p.consume(closer) {
				return nil
			}
			return p.fail("expected ',' or closing bracket")
		}
	case c == 't':
		if p.literal("true") {
			return nil
		}
	case c == 'f':
		if p.literal("false") {
			return nil
		}
	case c == 'n':
		if p.literal("null") {
			return nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := p.number()
		return err
	}
	return p.fail("unexpected value")
}

// scalarText returns a string value, or the raw text of a number or boolean
// (Java would turn those into strings too). ok is false for null.
func (p *jsonScanner) scalarText() (v string, ok bool, err error) {
	switch c := p.peek(); {
	case c == '"':
		v, err = p.str()
		return v, err == nil, err
	case c == 'n':
		if p.literal("null") {
			return "", false, nil
		}
	case c == 't':
		if p.literal("true") {
			return "true", true, nil
		}
	case c == 'f':
		if p.literal("false") {
			return "false", true, nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		v, err = p.number()
		return v, err == nil, err
	}
	return "", false, p.fail("expected a scalar value")
}

// decodeJSONHeader parses a JSON command header into cmd.
func decodeJSONHeader(s string, cmd *Command) error {
	p := &jsonScanner{s: s}
	if !p.consume('{') {
		return p.fail("expected '{'")
	}
	if !p.consume('}') {
		for {
			key, err := p.str()
			if err != nil {
				return err
			}
			if !p.consume(':') {
				return p.fail("expected ':'")
			}
			if err := decodeJSONHeaderField(p, key, cmd); err != nil {
				return err
			}
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return p.fail("expected ',' or '}'")
		}
	}
	if p.peek() != 0 {
		return p.fail("trailing data after header")
	}
	return nil
}

func decodeJSONHeaderField(p *jsonScanner, key string, cmd *Command) error {
	if p.peek() == 'n' && p.literal("null") {
		return nil
	}
	switch key {
	case "code":
		n, err := p.integer(16)
		cmd.Code = int16(n)
		return err
	case "version":
		n, err := p.integer(16)
		cmd.Version = int16(n)
		return err
	case "opaque":
		n, err := p.integer(32)
		cmd.Opaque = int32(n)
		return err
	case "flag":
		n, err := p.integer(32)
		cmd.Flag = int32(n)
		return err
	case "language":
		v, _, err := p.scalarText()
		if v != "" && '0' <= v[0] && v[0] <= '9' {
			if n, perr := strconv.Atoi(v); perr == nil {
				v = LanguageName(byte(n))
			}
		}
		cmd.Language = v
		return err
	case "remark":
		v, _, err := p.scalarText()
		cmd.Remark = v
		return err
	case "extFields":
		if !p.consume('{') {
			return p.fail("extFields is not an object")
		}
		if p.consume('}') {
			return nil
		}
		if cmd.Ext == nil {
			cmd.Ext = make([]Field, 0, 16) // a send header has 14 fields
		}
		for {
			k, err := p.str()
			if err != nil {
				return err
			}
			if !p.consume(':') {
				return p.fail("expected ':'")
			}
			v, ok, err := p.scalarText()
			if err != nil {
				return err
			}
			if ok {
				cmd.Ext = append(cmd.Ext, Field{k, v})
			}
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				return nil
			}
			return p.fail("expected ',' or '}' in extFields")
		}
	default:
		return p.skip()
	}
}

// appendJSONHeader appends the JSON header of cmd to dst, keys in the
// alphabetical order fastjson uses.
func appendJSONHeader(dst []byte, cmd *Command) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(cmd.Code), 10)
	if len(cmd.Ext) > 0 {
		dst = append(dst, `,"extFields":{`...)
		for i, f := range cmd.Ext {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f.Key)
			dst = append(dst, ':')
			dst = appendJSONString(dst, f.Value)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"flag":`...)
	dst = strconv.AppendInt(dst, int64(cmd.Flag), 10)
	lang := cmd.Language
	if lang == "" {
		lang = "JAVA"
	}
	dst = append(dst, `,"language":`...)
	dst = appendJSONString(dst, lang)
	dst = append(dst, `,"opaque":`...)
	dst = strconv.AppendInt(dst, int64(cmd.Opaque), 10)
	if cmd.Remark != "" {
		dst = append(dst, `,"remark":`...)
		dst = appendJSONString(dst, cmd.Remark)
	}
	dst = append(dst, `,"serializeTypeCurrentRPC":"JSON","version":`...)
	dst = strconv.AppendInt(dst, int64(cmd.Version), 10)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// LanguageName maps the LanguageCode ordinal of the binary header to its
// name.
func LanguageName(code byte) string {
	names := [...]string{"JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST"}
	if int(code) < len(names) {
		return names[code]
	}
	return "OTHER"
}

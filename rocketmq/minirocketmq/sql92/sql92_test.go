package sql92

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestJavaOracle runs testdata/cases.txt and compares every outcome with
// java_results.txt: what the real broker's filter module
// (rocketmq-filter-4.9.4.jar) answered for the same expression and
// properties. To regenerate after adding cases (needs a JDK and the
// RocketMQ 4.9.4 release unpacked at /opt/rocketmq-4.9.4, from apache.org):
//
//	cd testdata
//	javac -cp "/opt/rocketmq-4.9.4/lib/*" -d /tmp/oracle Oracle.java
//	java -cp "/tmp/oracle:/opt/rocketmq-4.9.4/lib/*" Oracle < cases.txt > java_results.txt
func TestJavaOracle(t *testing.T) {
	cases := readLines(t, "testdata/cases.txt")
	results := readLines(t, "testdata/java_results.txt")
	var n int
	for _, line := range cases {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, "\t") {
			continue
		}
		expr, propsText, _ := strings.Cut(line, "\t")
		props := map[string]string{}
		if propsText != "-" {
			for _, kv := range strings.Split(propsText, ",") {
				k, v, _ := strings.Cut(kv, "=")
				props[k] = v
			}
		}
		if n >= len(results) {
			t.Fatalf("java_results.txt has %d lines, fewer than the cases", len(results))
		}
		want := results[n]
		n++
		got := outcome(expr, props)
		if strings.HasPrefix(want, "COMPILEERROR "+classParseException) {
			// JavaCC lists every token it expected; ours name fewer.
			want = strings.Join(strings.Fields(want)[:2], " ")
			got = strings.Join(strings.Fields(got)[:min(2, len(strings.Fields(got)))], " ")
		}
		if got != want {
			t.Errorf("%q with %v:\n  got  %s\n  java %s", expr, props, got, want)
		}
	}
	if n != len(results) {
		t.Fatalf("%d cases, %d results", n, len(results))
	}
}

func outcome(expr string, props map[string]string) string {
	e, err := Compile(expr)
	if err != nil {
		ce := err.(*Error)
		return "COMPILEERROR " + ce.Class + " " + strings.ReplaceAll(ce.Error(), "\n", "\\n")
	}
	lookup := func(name string) (string, bool) { v, ok := props[name]; return v, ok }
	v, err := e.Evaluate(lookup)
	if err != nil {
		return "EVALERROR"
	}
	if v == nil {
		v = "null"
	}
	return fmt.Sprintf("VALUE %v MATCH %v", v, e.Match(lookup))
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestLimits: a selector nested deeper than MaxDepth fails as it does in
// the real broker (cause java.lang.StackOverflowError: the Java parser
// overflows its stack between 1,000 and 2,000 parentheses), one longer
// than MaxLength is refused before parsing, and what Java accepts below
// those limits still compiles. Without the limits, the 2-million-
// parenthesis heartbeat of issue 16 kills the process with a fatal stack
// overflow, which no recover catches.
func TestLimits(t *testing.T) {
	nest := func(open, close string, n int, inner string) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	chain := "a = 1" + strings.Repeat(" OR a = 1", 5000)
	for _, tc := range []struct {
		name, expr, err string
	}{
		{"1000 parentheses", nest("(", ")", 1000, "a > 1"), ""},
		{"2000 parentheses", nest("(", ")", 2000, "a > 1"), "java.lang.StackOverflowError"},
		{"5000 NOT", strings.Repeat("NOT ", 5000) + "a > 1", "java.lang.StackOverflowError"},
		{"5000 signs", "a > " + strings.Repeat("-", 5000) + "1", "java.lang.StackOverflowError"},
		{"2 million parentheses", nest("(", ")", 2_000_000, "a > 1"), "java.lang.RuntimeException: The expression is 4000005 bytes long, longer than the limit of 65536 bytes"},
		{"5000-term OR chain", chain, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Compile(tc.expr)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Compile = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if !e.Match(func(string) (string, bool) { return "2", true }) && !strings.Contains(tc.expr, "OR") {
				t.Fatal("does not match a=2")
			}
		})
	}
}

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
// RocketMQ 4.9.4 jars, see /work/shared/tools/realmq):
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

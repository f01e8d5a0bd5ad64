package sql92

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// FuzzCompile feeds arbitrary selectors to the parser: it must never panic
// (a selector comes from any client), and a compiled one must evaluate and
// print without panicking whatever the properties. The seeds are the
// expressions of testdata/cases.txt.
//
//	go test -fuzz FuzzCompile ./minirocketmq/sql92
func FuzzCompile(f *testing.F) {
	file, err := os.Open("testdata/cases.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			expr, _, _ := strings.Cut(line, "\t")
			f.Add(expr, "7")
		}
	}
	f.Add("a IN ('x', 'y') OR b BETWEEN -1 AND 2.5e3 AND c IS NOT NULL", "NaN")
	f.Fuzz(func(t *testing.T, expr, val string) {
		e, err := Compile(expr)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q) returned a %T: %v", expr, err, err)
			}
			return
		}
		_ = e.String()
		for _, props := range []Properties{
			func(string) (string, bool) { return "", false },
			func(string) (string, bool) { return val, true },
			func(name string) (string, bool) { return name, len(name)%2 == 0 },
		} {
			v, err := e.Evaluate(props)
			switch v.(type) {
			case nil, bool:
			default:
				if err == nil {
					t.Fatalf("%q evaluated to a %T", expr, v)
				}
			}
			_ = e.Match(props)
		}
	})
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childBroker(spec)) // the broker processes the harness starts are this binary
	}
	os.Exit(m.Run())
}

// smokeConfig runs every scenario with tiny counts: the harness must not rot, and
// nothing here is timed.
func smokeConfig() config {
	return config{mode: "smoke", rounds: 2, turn: 50 * time.Millisecond, warmup: 50 * time.Millisecond,
		consumeRounds: 2, consumeMessages: 40, latencyRate: 200,
		storeMessages: map[int]int{128: 20, 1024: 20, 16 << 10: 10}, rssMessages: 64}
}

// TestSmoke runs the whole harness (against ROCKETMQ_NAMESRV when set) and checks that
// the report has every scenario's table, well formed, with a figure in every cell.
func TestSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.md")
	rep, err := bench(context.Background(), smokeConfig(), scenarios, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.writeMarkdown(out); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkMarkdown(t, string(md))
	if txt := rep.text(); !strings.Contains(txt, "ours ÷ raw") {
		t.Errorf("text report without ratios:\n%s", txt)
	}
}

// checkMarkdown checks the facts and that every table has a header, a separator and
// rows with as many non-empty cells as the header.
func checkMarkdown(t *testing.T, md string) {
	t.Helper()
	for _, fact := range []string{"| date |", "| Go | go1.", "| CPUs |", "| load average at start |", "| goals |"} {
		if !strings.Contains(md, fact) {
			t.Errorf("report lacks the fact %q", fact)
		}
	}
	titles := map[string]bool{}
	var header []string
	for i, line := range strings.Split(md, "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			titles[strings.SplitN(title, ".", 2)[0]] = true
			header = nil
			continue
		}
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(line, "|---"):
		case len(cells) != len(header):
			t.Errorf("line %d has %d cells, its header %d: %s", i+1, len(cells), len(header), line)
		default:
			for _, c := range cells {
				if strings.TrimSpace(c) == "" || strings.Contains(c, "NaN") || strings.Contains(c, "Inf") {
					t.Errorf("line %d: empty or non-numeric cell: %s", i+1, line)
				}
			}
		}
	}
	for _, s := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if !titles[s] {
			t.Errorf("report has no table for scenario %s", s)
		}
	}
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"
)

// table is one scenario's figures.
type table struct {
	title  string
	notes  []string // what was measured and how, printed under the table
	header []string
	rows   [][]string
	checks []check // the goals checked in this table
}

// row appends a row; it must have as many cells as the header.
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// goal is a bound a ratio ours ÷ raw is compared against.
type goal struct {
	atLeast bool // true: ratio ≥ limit; false: ratio ≤ limit
	limit   float64
}

var (
	goalThroughput = goal{atLeast: true, limit: 0.95}  // publish and consume ours ÷ raw
	goalLatency    = goal{atLeast: false, limit: 1.10} // p99 latency ours ÷ raw
)

// check is one ratio compared with its goal.
type check struct {
	what  string
	ratio float64
	goal  goal
}

func (c check) ok() bool {
	if c.goal.atLeast {
		return c.ratio >= c.goal.limit
	}
	return c.ratio <= c.goal.limit
}

// ratio records ratio against g under the name what and returns the ratio and goal
// cells ("0.97", "≥ 0.95 ✓").
func (t *table) ratio(what string, ratio float64, g goal) (string, string) {
	c := check{what: what, ratio: ratio, goal: g}
	t.checks = append(t.checks, c)
	op, mark := "≤", "✗"
	if g.atLeast {
		op = "≥"
	}
	if c.ok() {
		mark = "✓"
	}
	return fmt.Sprintf("%.2f", ratio), fmt.Sprintf("%s %.2f %s", op, g.limit, mark)
}

// ratioHeader is the header of tables of ratioRow rows.
var ratioHeader = []string{"case", "raw msg/s", "ours msg/s", "wall ÷ (rounds' range)",
	"raw CPU µs/msg", "ours CPU µs/msg", "ours ÷ raw", "goal"}

// ratioRow adds a row of rounds r. The ratio checked against g (when g is not nil) is
// ours ÷ raw in messages per CPU second, or the wall-clock one where CPU time cannot
// be read (see measure.go).
func (t *table) ratioRow(c, what string, r *rounds, g *goal) {
	ratio := r.cpuRatio()
	if ratio == 0 {
		ratio = r.wallRatio()
	}
	rc, gc := fmt.Sprintf("%.2f", ratio), "–"
	if g != nil {
		rc, gc = t.ratio(what, ratio, *g)
	}
	wall := fmt.Sprintf("%.2f (%s)", r.wallRatio(), r.spread())
	t.row(c, rate(r.rate(0)), rate(r.rate(1)), wall, cpuCell(r.cpuPerMsg(0)), cpuCell(r.cpuPerMsg(1)), rc, gc)
}

// ratioNote explains the columns of ratioRow tables.
const ratioNote = "msg/s: wall clock over all turns. wall ÷: median of the rounds' ours ÷ raw, with their range. " +
	"CPU µs/msg: this process's CPU time (clients only) per message. ours ÷ raw: messages per CPU second, " +
	"raw's CPU per message ÷ ours'; the goal is checked on it (why: cmd/rmqbench/measure.go)."

func cpuCell(us float64) string {
	if us == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", us)
}

// report is the whole run: machine facts, then the tables.
type report struct {
	facts  [][2]string
	tables []*table
}

func newReport(cfg config, e *env) *report {
	r := &report{}
	r.fact("date", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	r.fact("mode", cfg.mode)
	r.fact("broker", e.target())
	r.fact("client", "github.com/apache/rocketmq-client-go/v2 "+moduleVersion("github.com/apache/rocketmq-client-go/v2"))
	r.fact("Go", fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH))
	r.fact("CPUs", fmt.Sprintf("%d (GOMAXPROCS %d) %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel()))
	r.fact("load average at start", loadAverage())
	return r
}

func (r *report) fact(k, v string) { r.facts = append(r.facts, [2]string{k, v}) }

// finish adds the facts known at the end of the run.
func (r *report) finish(elapsed time.Duration) {
	r.fact("load average at end", loadAverage())
	r.fact("run time", elapsed.Round(100*time.Millisecond).String())
	var checks, met int
	var missed []string
	for _, t := range r.tables {
		for _, c := range t.checks {
			checks++
			if c.ok() {
				met++
			} else {
				missed = append(missed, fmt.Sprintf("%s %.2f", c.what, c.ratio))
			}
		}
	}
	goals := fmt.Sprintf("%d of %d met", met, checks)
	if len(missed) > 0 {
		goals += "; missed: " + strings.Join(missed, ", ")
	}
	r.fact("goals", goals)
}

const reportIntro = "Raw rocketmq-client-go/v2 and this project's stack, measured side by side in one " +
	"process against the same broker with the same bodies. On a shared machine the absolute " +
	"figures move with the load average; the ratios ours ÷ raw are what to compare."

// text renders the report for a terminal.
func (r *report) text() string {
	var b strings.Builder
	b.WriteString("rmqbench: " + reportIntro + "\n\n")
	for _, f := range r.facts {
		fmt.Fprintf(&b, "  %-22s %s\n", f[0]+":", f[1])
	}
	for _, t := range r.tables {
		b.WriteString("\n" + t.title + "\n")
		widths := make([]int, len(t.header))
		for _, row := range append([][]string{t.header}, t.rows...) {
			for i, c := range row {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
		line := func(cells []string) {
			for i, c := range cells {
				pad := widths[i] - utf8.RuneCountInString(c)
				if i == 0 {
					fmt.Fprintf(&b, "  %s%s", c, strings.Repeat(" ", pad))
				} else {
					fmt.Fprintf(&b, "  %s%s", strings.Repeat(" ", pad), c)
				}
			}
			b.WriteString("\n")
		}
		line(t.header)
		for _, row := range t.rows {
			line(row)
		}
		for _, n := range t.notes {
			b.WriteString("  · " + n + "\n")
		}
	}
	return b.String()
}

// markdown renders the report as bench/results.md.
func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# rmqbench results\n\n" + reportIntro +
		" Written by `go run ./cmd/rmqbench` (`make bench`); see its package doc for how to run it.\n\n")
	b.WriteString("| fact | value |\n|---|---|\n")
	for _, f := range r.facts {
		fmt.Fprintf(&b, "| %s | %s |\n", f[0], mdCell(f[1]))
	}
	for _, t := range r.tables {
		fmt.Fprintf(&b, "\n## %s\n\n", t.title)
		b.WriteString("| " + strings.Join(mdCells(t.header), " | ") + " |\n")
		b.WriteString("|" + strings.Repeat("---|", len(t.header)) + "\n")
		for _, row := range t.rows {
			b.WriteString("| " + strings.Join(mdCells(row), " | ") + " |\n")
		}
		if len(t.notes) > 0 {
			b.WriteString("\n")
			for _, n := range t.notes {
				b.WriteString("- " + n + "\n")
			}
		}
	}
	return b.String()
}

func mdCells(cs []string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = mdCell(c)
	}
	return out
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func (r *report) writeMarkdown(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(r.markdown()), 0o644)
}

// Number formats.

func rate(v float64) string { return groupDigits(int64(v + 0.5)) }

func mbps(v float64) string { return fmt.Sprintf("%.1f", v) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Machine facts.

func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "(unknown version)"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "not available on " + runtime.GOOS
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unreadable"
	}
	return strings.Join(f[:3], " ") + " (1, 5, 15 min)"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

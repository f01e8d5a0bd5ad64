package reliability

import (
	"regexp"
	"strings"
)

// RaceExitCode is the exit status of a program built with -race that found a data race
// (the GORACE exitcode default).
const RaceExitCode = 66

// clientPackage prefixes the frames of rocketmq-client-go.
const clientPackage = "github.com/apache/rocketmq-client-go/v2/"

// accessLine starts one side of a race report: "Write at 0x... by goroutine 7:",
// "Previous read at ...", "Read at ...".
var accessLine = regexp.MustCompile(`^\s*(Previous )?(read|write|Read|Write)( at| by)`)

// ClientRaces returns the data race reports in output and whether every one of them is a
// race inside rocketmq-client-go: both accesses made by the client's own code (the top
// frame of each stack is in the client's packages), on memory only the client touches.
// The client has such races (a check-back answered while the transactional producer shuts
// down: its InvokeOneWay reads the closed flag Shutdown writes), which no caller can order;
// a child process built with -race that reports only these exits 66 through no fault of
// ours. Any report with an access in other code makes ok false.
func ClientRaces(output string) (reports []string, ok bool) {
	const start, end = "WARNING: DATA RACE", "=================="
	rest := output
	for {
		i := strings.Index(rest, start)
		if i < 0 {
			break
		}
		rest = rest[i:]
		j := strings.Index(rest, end)
		if j < 0 {
			j = len(rest)
		}
		reports = append(reports, rest[:j])
		rest = rest[j:]
	}
	if len(reports) == 0 {
		return nil, false
	}
	for _, r := range reports {
		if !clientOnly(r) {
			return reports, false
		}
	}
	return reports, true
}

// clientOnly reports whether both accesses of one race report start in the client.
func clientOnly(report string) bool {
	lines := strings.Split(report, "\n")
	accesses := 0
	for i, l := range lines {
		if !accessLine.MatchString(l) {
			continue
		}
		accesses++
		if i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), clientPackage) {
			return false
		}
	}
	return accesses >= 2
}

//go:build !unix

package main

import "time"

// cpuTime is not measured on this system; CPU figures print as n/a.
func cpuTime() time.Duration { return 0 }

package minirocketmq

import "testing"

// TestVersionBefore: client versions compare part by part as numbers, so
// 5.0.10 is not older than 5.0.3 (as strings it would be).
func TestVersionBefore(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"", true},
		{"unknown", true},
		{"5", true},
		{"5.0", true},
		{"5.0.2", true},
		{"4.9.4", true},
		{"5.0.3", false},
		{"5.0.3-SNAPSHOT", false},
		{"5.0.3.0", false},
		{"5.0.4", false},
		{"5.0.10", false},
		{"5.0.21", false},
		{"5.1.0", false},
		{"5.10.0", false},
		{"10.0.0", false},
		{"5.0.99999999999999999999", false},
	}
	for _, tt := range tests {
		if got := versionBefore(tt.v, illegalPollingTimeSince); got != tt.want {
			t.Errorf("versionBefore(%q, %q) = %v, want %v", tt.v, illegalPollingTimeSince, got, tt.want)
		}
	}
}

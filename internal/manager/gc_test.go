package manager

import "testing"

// TestGCPercent: the operator's default applies only when the user set no
// GOGC, whatever its value ("off" included).
func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc    string
		want    int
		wantSet bool
	}{
		{"", defaultGCPercent, true},
		{"100", 0, false},
		{"off", 0, false},
		{"25", 0, false},
	} {
		got, set := gcPercent(tc.gogc)
		if got != tc.want || set != tc.wantSet {
			t.Errorf("gcPercent(%q) = %d, %v; want %d, %v", tc.gogc, got, set, tc.want, tc.wantSet)
		}
	}
}

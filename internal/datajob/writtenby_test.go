package datajob

import (
	"strings"
	"testing"
)

// TestWrittenBy: a finished backup Job counts as this backup only when its
// result proves that this OdooBackupJob's run wrote the object.
func TestWrittenBy(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		res  *Result
		want string // "" = counted
	}{
		{"written by this run", &Result{OK: true, SHA256: sum, RunID: "uid-1"}, ""},
		{"kept by this run's retry", &Result{OK: true, SHA256: sum, RunID: "uid-1", Existing: true}, ""},
		{"written by a Job without run id", &Result{OK: true, SHA256: sum}, ""},
		{"found, of another run", &Result{OK: true, SHA256: sum, RunID: "uid-2", Existing: true}, "run uid-2, not of this OdooBackupJob"},
		{"found, no run id", &Result{OK: true, SHA256: sum, Existing: true}, "records no run id"},
		{"no result", nil, "cannot be read"},
		{"no checksum", &Result{OK: true, RunID: "uid-1"}, "reports no stored backup"},
		{"not ok", &Result{SHA256: sum, RunID: "uid-1"}, "reports no stored backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WrittenBy(tt.res, "uid-1")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("WrittenBy = %q, want %q", got, tt.want)
			}
		})
	}
}

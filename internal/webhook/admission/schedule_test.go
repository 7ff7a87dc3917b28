package admission

import (
	"strings"
	"testing"
	"time"
)

// TestValidateSchedule: a schedule below the administrator's floor, one
// that never fires, and a fixed delay are refused with the field named and
// the fix; the floor is the one given to the validator (0: one hour).
func TestValidateSchedule(t *testing.T) {
	tests := []struct {
		schedule string
		floor    time.Duration
		wantErr  string // "" = accepted
	}{
		{"", 0, ""},
		{"0 3 * * *", 0, ""},
		{"0 * * * *", 0, ""},
		{"0 * * * *", 2 * time.Hour, "below the minimum of 2h0m0s"},
		{"*/15 * * * *", 15 * time.Minute, ""},
		{"* * * * *", 0, "below the minimum of 1h0m0s"},
		{"@every 1s", 0, "fixed delay"},
		{"0 0 30 2 *", 0, "never fires"},
		{"not cron", 0, "expected exactly 5 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			inst := instance("", "")
			inst.Spec.Backup.Schedule = tt.schedule
			errs := validateSchedule(inst, tt.floor)
			if tt.wantErr == "" {
				if len(errs) != 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("%d errors, want 1: %v", len(errs), errs)
			}
			msg := errs.ToAggregate().Error()
			for _, want := range []string{"spec.backup.schedule", tt.wantErr, `"0 3 * * *"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

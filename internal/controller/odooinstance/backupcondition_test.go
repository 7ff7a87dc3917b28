package odooinstance

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestBackupCondition(t *testing.T) {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", Generation: 3}}
	t0 := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	backup := func(name string, phase odoov1alpha2.JobPhase, doneAfter time.Duration, msg string) odoov1alpha2.OdooBackupJob {
		b := odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
		b.Spec.OdooInstanceRef.Name = "shop"
		b.Status.Phase, b.Status.Message, b.Status.ObjectKey = phase, msg, "shop/"+name+".zip"
		if phase == odoov1alpha2.JobCompleted || phase == odoov1alpha2.JobFailed {
			b.Status.CompletionTime = &metav1.Time{Time: t0.Add(doneAfter)}
		}
		return b
	}
	other := backup("other", odoov1alpha2.JobFailed, 5*time.Hour, "boom")
	other.Spec.OdooInstanceRef.Name = "another"
	elsewhere := backup("elsewhere", odoov1alpha2.JobFailed, 5*time.Hour, "boom")
	elsewhere.Namespace = "ns2"

	tests := []struct {
		name    string
		backups []odoov1alpha2.OdooBackupJob
		status  metav1.ConditionStatus // "" = no condition
		reason  string
		message string
	}{
		{"no backup ever ran", nil, "", "", ""},
		{"only a running backup", []odoov1alpha2.OdooBackupJob{backup("a", odoov1alpha2.JobRunning, 0, "")}, "", "", ""},
		{"the newest finished backup succeeded",
			[]odoov1alpha2.OdooBackupJob{backup("a", odoov1alpha2.JobFailed, 0, "boom"), backup("b", odoov1alpha2.JobCompleted, time.Hour, "")},
			metav1.ConditionTrue, odoov1alpha2.ReasonBackupCompleted, "backup b completed at 2026-11-26T04:00:00Z, stored at shop/b.zip"},
		{"the newest finished backup failed",
			[]odoov1alpha2.OdooBackupJob{backup("a", odoov1alpha2.JobCompleted, 0, ""), backup("b", odoov1alpha2.JobFailed, time.Hour, "the backup Job b-backup failed: disk full"),
				backup("c", odoov1alpha2.JobRunning, 0, "")},
			metav1.ConditionFalse, odoov1alpha2.ReasonBackupFailed,
			"backup b failed at 2026-11-26T04:00:00Z: the backup Job b-backup failed: disk full; see kubectl describe odoobackupjob b"},
		{"finish time orders, not names",
			[]odoov1alpha2.OdooBackupJob{backup("z", odoov1alpha2.JobFailed, 0, "old failure"), backup("a", odoov1alpha2.JobCompleted, time.Minute, "")},
			metav1.ConditionTrue, odoov1alpha2.ReasonBackupCompleted, "backup a completed at 2026-11-26T03:01:00Z, stored at shop/a.zip"},
		{"backups of other instances do not count",
			[]odoov1alpha2.OdooBackupJob{backup("a", odoov1alpha2.JobCompleted, 0, ""), other, elsewhere},
			metav1.ConditionTrue, odoov1alpha2.ReasonBackupCompleted, "backup a completed at 2026-11-26T03:00:00Z, stored at shop/a.zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := backupCondition(inst, tt.backups)
			if tt.status == "" {
				if c != nil {
					t.Fatalf("condition %+v, want none", c)
				}
				return
			}
			if c == nil || c.Status != tt.status || c.Reason != tt.reason || c.Message != tt.message || c.ObservedGeneration != 3 {
				t.Fatalf("condition %+v, want %s %s %q", c, tt.status, tt.reason, tt.message)
			}
		})
	}
}

// The condition is left alone when the backups were not read, and removed
// when none of the instance's backups has finished.
func TestSetBackupCondition(t *testing.T) {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns"}}
	status := odoov1alpha2.OdooInstanceStatus{Conditions: []metav1.Condition{{Type: odoov1alpha2.ConditionBackupSucceeded, Status: metav1.ConditionTrue}}}
	setBackupCondition(&status, statusInputs{instance: inst})
	if meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionBackupSucceeded) == nil {
		t.Fatal("the condition was dropped although the backups were not read")
	}
	setBackupCondition(&status, statusInputs{instance: inst, backupsObserved: true})
	if meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionBackupSucceeded) != nil {
		t.Fatal("the condition stayed with no finished backup")
	}
}

func TestBackupEvent(t *testing.T) {
	with := func(status metav1.ConditionStatus, msg string) *odoov1alpha2.OdooInstance {
		inst := &odoov1alpha2.OdooInstance{}
		if status != "" {
			inst.Status.Conditions = []metav1.Condition{{Type: odoov1alpha2.ConditionBackupSucceeded, Status: status, Message: msg}}
		}
		return inst
	}
	tests := []struct {
		name          string
		before, after *odoov1alpha2.OdooInstance
		reason        string
	}{
		{"no backup yet", with("", ""), with("", ""), ""},
		{"first backup good", with("", ""), with(metav1.ConditionTrue, "a"), ""},
		{"another good backup", with(metav1.ConditionTrue, "a"), with(metav1.ConditionTrue, "b"), ""},
		{"first backup failed", with("", ""), with(metav1.ConditionFalse, "a failed"), odoov1alpha2.EventBackupFailed},
		{"a backup failed after a good one", with(metav1.ConditionTrue, "a"), with(metav1.ConditionFalse, "b failed"), odoov1alpha2.EventBackupFailed},
		{"another backup failed", with(metav1.ConditionFalse, "a failed"), with(metav1.ConditionFalse, "b failed"), odoov1alpha2.EventBackupFailed},
		{"the same failure seen again", with(metav1.ConditionFalse, "a failed"), with(metav1.ConditionFalse, "a failed"), ""},
		{"good again", with(metav1.ConditionFalse, "a failed"), with(metav1.ConditionTrue, "b"), odoov1alpha2.EventBackupRecovered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, reason, note := backupEvent(tt.before, tt.after)
			if reason != tt.reason || (reason != "" && note != meta.FindStatusCondition(tt.after.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded).Message) {
				t.Errorf("event %s %s %q, want reason %q", kind, reason, note, tt.reason)
			}
			if reason == odoov1alpha2.EventBackupFailed && kind != "Warning" {
				t.Errorf("a failed backup is a %s event", kind)
			}
		})
	}
}

package observe

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestLastBackupIgnoresRestorePoints: the last successful backup, which the
// OdooBackupMissing alert watches, is never an upgrade's restore point,
// neither from the OdooBackupJobs nor through status.lastBackup (which the
// backup controller raises for restore points too).
func TestLastBackupIgnoresRestorePoints(t *testing.T) {
	completed := func(name string, sec int64, restorePoint bool) *odoov1alpha2.OdooBackupJob {
		b := backupJob(name)
		if restorePoint {
			b.Labels = map[string]string{resources.LabelRestorePoint: "true"}
		}
		b.Status.Phase, b.Status.CompletionTime, b.Status.BackupSize = odoov1alpha2.JobCompleted, at(sec), "10"
		return b
	}
	for _, tc := range []struct {
		name       string
		lastBackup *metav1.Time
		backups    []*odoov1alpha2.OdooBackupJob
		want       float64 // 0: no sample
	}{
		{"no backup at all", nil, nil, 0},
		{"only a restore point, recorded in status.lastBackup", at(2000), []*odoov1alpha2.OdooBackupJob{completed("rp", 2000, true)}, 0},
		{"a backup and a newer restore point", at(2000), []*odoov1alpha2.OdooBackupJob{completed("b", 1000, false), completed("rp", 2000, true)}, 1000},
		{"status.lastBackup of a backup whose object is gone", at(1500), []*odoov1alpha2.OdooBackupJob{completed("rp", 900, true)}, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := instance("metrics", "shop")
			inst.Status.LastBackup = tc.lastBackup
			var got float64
			for _, s := range instanceSamples(inst, &instanceJobs{backups: tc.backups}) {
				if s.desc == descLastBackup {
					got = s.value
				}
			}
			if got != tc.want {
				t.Errorf("last backup success timestamp %v, want %v (0 = none)", got, tc.want)
			}
		})
	}
}

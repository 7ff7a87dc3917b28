package odooinstance

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/retention"
)

func TestScheduledBackupOnAClaimHasAFileOfItsOwn(t *testing.T) {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns"}}
	inst.Spec.Backup.Format = odoov1alpha2.BackupFormatDump
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "odoo/shop"}}
	a := scheduledBackup(inst, time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	b := scheduledBackup(inst, time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	if a.Spec.Destination.PVC.Path != "odoo/shop/shop-202611240300.dump" || b.Spec.Destination.PVC.Path != "odoo/shop/shop-202611250300.dump" {
		t.Errorf("paths %q and %q", a.Spec.Destination.PVC.Path, b.Spec.Destination.PVC.Path)
	}
	if inst.Spec.Backup.Destination.PVC.Path != "odoo/shop" {
		t.Error("the instance's destination was modified")
	}
	inst.Spec.Backup.Destination.PVC.Path = ""
	if p := scheduledBackup(inst, time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)).Spec.Destination.PVC.Path; p != "shop-202611240300.dump" {
		t.Errorf("path at the claim's root %q", p)
	}
}

func TestPruneActions(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns"}}
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}
	// backup is the scheduled backup of days ago, in phase.
	backup := func(daysAgo int, phase odoov1alpha2.JobPhase, mod ...func(*odoov1alpha2.OdooBackupJob)) odoov1alpha2.OdooBackupJob {
		b := *scheduledBackup(inst, now.Add(-time.Duration(daysAgo)*24*time.Hour).Truncate(24*time.Hour).Add(3*time.Hour))
		b.Status.Phase = phase
		for _, m := range mod {
			m(&b)
		}
		return b
	}
	name := func(daysAgo int) string {
		return scheduledBackupName(inst, now.Add(-time.Duration(daysAgo)*24*time.Hour).Truncate(24*time.Hour).Add(3*time.Hour))
	}
	marked := func(b *odoov1alpha2.OdooBackupJob) {
		b.Annotations[odoov1alpha2.AnnotationPrune] = odoov1alpha2.PruneRetention
	}
	sharedFile := func(b *odoov1alpha2.OdooBackupJob) { b.Spec.Destination.PVC.Path = "shop" }
	otherInstance := func(b *odoov1alpha2.OdooBackupJob) { b.Spec.OdooInstanceRef.Name = "other" }
	two := retention.Policy{KeepDaily: 2}
	ok, failed, running := odoov1alpha2.JobCompleted, odoov1alpha2.JobFailed, odoov1alpha2.JobRunning

	tests := []struct {
		name         string
		backups      []odoov1alpha2.OdooBackupJob
		policy       retention.Policy
		mark, forget []string
	}{
		{"within the retention nothing goes", []odoov1alpha2.OdooBackupJob{backup(1, ok), backup(2, ok)}, two, nil, nil},
		{"the oldest beyond the retention are marked",
			[]odoov1alpha2.OdooBackupJob{backup(1, ok), backup(2, ok), backup(3, ok), backup(4, failed)}, two, []string{name(3), name(4)}, nil},
		{"the newest good backup is never pruned, even with a policy of zero",
			[]odoov1alpha2.OdooBackupJob{backup(1, failed), backup(2, ok), backup(3, ok)}, retention.Policy{}, []string{name(3)}, nil},
		{"running backups take no slot and are never pruned",
			[]odoov1alpha2.OdooBackupJob{backup(0, running), backup(1, ok), backup(2, ok), backup(3, ok)}, two, []string{name(3)}, nil},
		{"marked backups are on their way out: they take no slot and are not marked again",
			[]odoov1alpha2.OdooBackupJob{backup(1, ok), backup(2, ok, marked), backup(3, ok), backup(4, ok)}, two, []string{name(4)}, nil},
		{"a backup of another instance is left alone",
			[]odoov1alpha2.OdooBackupJob{backup(1, ok), backup(2, ok), backup(3, ok, otherInstance)}, retention.Policy{KeepDaily: 1}, []string{name(2)}, nil},
		{"a backup whose file a kept backup also uses loses its object only",
			[]odoov1alpha2.OdooBackupJob{backup(1, ok, sharedFile), backup(2, ok, sharedFile), backup(3, ok)}, retention.Policy{KeepDaily: 1},
			[]string{name(3)}, []string{name(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark, forget := pruneActions(inst, tt.backups, tt.policy, now)
			slices.Sort(mark)
			slices.Sort(tt.mark)
			if !slices.Equal(mark, tt.mark) || !slices.Equal(forget, tt.forget) {
				t.Errorf("mark %v, forget %v; want %v, %v", mark, forget, tt.mark, tt.forget)
			}
		})
	}
}

func TestPruneMarkPatch(t *testing.T) {
	if got := string(pruneMarkPatch("u-1")); got != `{"metadata":{"uid":"u-1","annotations":{"bemade.org/prune":"retention"}}}` {
		t.Errorf("patch %s", got)
	}
}

package plugin

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

var now = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func ago(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }

// running is a Ready instance serving odoo:18.0 with one web pod.
func running() *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "acme"},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", Replicas: ptr.To[int32](1)},
		Status: odoov1alpha2.OdooInstanceStatus{
			Phase: odoov1alpha2.PhaseRunning, ReadyReplicas: 1, URL: "https://shop.example.com",
			Deployment: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:18.0", CronImage: "odoo:18.0"},
			Database:   &odoov1alpha2.DatabaseStatus{Cluster: "main", Name: "acme_shop", Initialized: true},
			Conditions: []metav1.Condition{
				{Type: odoov1alpha2.ConditionReady, Status: metav1.ConditionTrue, Reason: odoov1alpha2.ReasonAvailable},
				{Type: odoov1alpha2.ConditionProgressing, Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonReconciled},
				{Type: odoov1alpha2.ConditionDegraded, Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonAsExpected},
				{Type: odoov1alpha2.ConditionWebAvailable, Status: metav1.ConditionTrue, Reason: odoov1alpha2.ReasonAvailable},
			},
		},
	}
}

func TestCurrentOperation(t *testing.T) {
	restore := odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "undo"}}
	restore.Status.Phase, restore.Status.Step, restore.Status.StartTime = odoov1alpha2.JobRunning, odoov1alpha2.RestoreStepSwap, ago(90*time.Second)
	doneRestore := restore
	doneRestore.Status.Phase = odoov1alpha2.JobCompleted
	backup := odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly"}}
	backup.Status.Phase, backup.Status.StartTime = odoov1alpha2.JobRunning, ago(5*time.Second)

	for _, tc := range []struct {
		name     string
		mutate   func(*odoov1alpha2.OdooInstance)
		backups  []odoov1alpha2.OdooBackupJob
		restores []odoov1alpha2.OdooRestoreJob
		want     *OperationReport
	}{
		{name: "nothing runs", want: nil},
		{
			name: "the lock record wins over the operations' own status",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationRestore, Name: "undo", Step: "Load", Started: *ago(2 * time.Minute)}
				i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning}
			},
			restores: []odoov1alpha2.OdooRestoreJob{restore},
			want:     &OperationReport{Kind: "Restore", Name: "undo", Step: "Load", Started: ago(2 * time.Minute), Elapsed: "2m", Source: "status.operation"},
		},
		{
			name: "without a lock record, a running upgrade and its step",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStep("RestorePoint"), StartTime: ago(75 * time.Second)}
			},
			want: &OperationReport{Kind: "Upgrade", Name: "shop", Step: "RestorePoint", Started: ago(75 * time.Second), Elapsed: "75s", Source: "status.upgrade"},
		},
		{
			name: "a finished upgrade is no operation",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeSuccess, StartTime: ago(time.Hour)}
			},
			want: nil,
		},
		{
			name: "a filestore migration copying",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Status.Filestore = &odoov1alpha2.FilestoreStatus{Migration: &odoov1alpha2.FilestoreMigration{Phase: odoov1alpha2.FilestoreMigrationCopying, StartTime: ago(10 * time.Second)}}
			},
			want: &OperationReport{Kind: "FilestoreMigration", Name: "shop", Step: "Copying", Started: ago(10 * time.Second), Elapsed: "10s", Source: "status.filestore.migration"},
		},
		{
			name:     "a running restore before a running backup; finished ones do not count",
			restores: []odoov1alpha2.OdooRestoreJob{doneRestore, restore},
			backups:  []odoov1alpha2.OdooBackupJob{backup},
			want:     &OperationReport{Kind: "Restore", Name: "undo", Step: "Swap", Started: ago(90 * time.Second), Elapsed: "90s", Source: "OdooRestoreJob"},
		},
		{
			name:    "a running backup",
			backups: []odoov1alpha2.OdooBackupJob{backup},
			want:    &OperationReport{Kind: "Backup", Name: "nightly", Step: "Running", Started: ago(5 * time.Second), Elapsed: "5s", Source: "OdooBackupJob"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := running()
			if tc.mutate != nil {
				tc.mutate(inst)
			}
			got := currentOperation(inst, tc.backups, tc.restores, now)
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("operation = %+v, want %+v", got, tc.want)
			}
			if got != nil && (got.Kind != tc.want.Kind || got.Name != tc.want.Name || got.Step != tc.want.Step ||
				!got.Started.Equal(tc.want.Started) || got.Elapsed != tc.want.Elapsed || got.Source != tc.want.Source) {
				t.Errorf("operation = %+v, want %+v", *got, *tc.want)
			}
		})
	}
}

func TestBuildReportListsConditionsThatAreNotOK(t *testing.T) {
	inst := running()
	inst.Status.Conditions = append(inst.Status.Conditions,
		metav1.Condition{Type: odoov1alpha2.ConditionHealthy, Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonErrorsLogged, Message: "2 errors"},
		metav1.Condition{Type: odoov1alpha2.ConditionRolledBack, Status: metav1.ConditionTrue, Reason: odoov1alpha2.ReasonCrashLooping, Message: "odoo:18.1 crash-looped"},
		metav1.Condition{Type: odoov1alpha2.ConditionStalled, Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonAsExpected},
		metav1.Condition{Type: odoov1alpha2.ConditionUpgradeSucceeded, Status: metav1.ConditionUnknown, Reason: odoov1alpha2.ReasonUpgrading},
	)
	r := buildReport(inst, nil, nil, now)
	var got []string
	for _, p := range r.Problems {
		got = append(got, p.Type+"="+p.Status)
	}
	if want := "Healthy=False RolledBack=True UpgradeSucceeded=Unknown"; strings.Join(got, " ") != want {
		t.Errorf("conditions not OK = %v, want %s", got, want)
	}
	if r.Ready != "True" || r.Replicas != "1/1" || r.Phase != "Running" {
		t.Errorf("ready %s replicas %s phase %s", r.Ready, r.Replicas, r.Phase)
	}
}

func TestHealthReportSumsByCategory(t *testing.T) {
	h := healthReport(&odoov1alpha2.HealthStatus{Status: "Degraded", ErrorCount: 6, Errors: []odoov1alpha2.HealthError{
		{Category: "DatabaseSchema", Count: 1}, {Category: "ModuleLoading", Count: 3}, {Category: "DatabaseSchema", Count: 2}, {Count: 0},
	}})
	var got []string
	for _, c := range h.Categories {
		got = append(got, c.Category+":"+strconv.Itoa(int(c.Count)))
	}
	// Sorted by count, then name; an unclassified error counts once as Other.
	if want := "DatabaseSchema:3 ModuleLoading:3 Other:1"; strings.Join(got, " ") != want {
		t.Errorf("categories %v, want %s", got, want)
	}
}

func TestRenderStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*odoov1alpha2.OdooInstance)
		want   []string
		absent []string
	}{
		{
			name: "running and quiet",
			want: []string{
				"Name:         shop\n", "Namespace:    acme\n", "Phase:        Running\n", "Ready:        True (1/1 web pods ready)\n",
				"URL:          https://shop.example.com\n", "Image:        odoo:18.0\n", "Database:     acme_shop on cluster main (initialized)\n",
				"Last backup:  none\n", "Health:       not sampled", "Operation:    none\n", "Last upgrade: none\n", "Conditions:   all OK\n",
			},
			absent: []string{"Cron image", "suspended"},
		},
		{
			name: "after a failed upgrade the old image serves",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Image = "odoo:18.3-broken"
				i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeFailed, FromImage: "odoo:18.0", ImageAttempted: "odoo:18.3-broken",
					Duration: "42s", Trigger: "Image", Message: "module sale failed:\nKeyError"}
				i.Status.Conditions = append(i.Status.Conditions, metav1.Condition{Type: odoov1alpha2.ConditionUpgradeSucceeded,
					Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonUpgradeFailed, Message: "module sale failed"})
			},
			want: []string{
				"Image:        odoo:18.0 (serving), odoo:18.3-broken (wanted)\n",
				"Last upgrade: odoo:18.0 -> odoo:18.3-broken: Failed in 42s (Image): module sale failed: KeyError\n",
				"Conditions not OK:\n  UpgradeSucceeded  False  UpgradeFailed  module sale failed\n",
			},
			// Cron follows web: no line of its own.
			absent: []string{"Cron image"},
		},
		{
			name: "suspended, backed up, errors logged, restoring",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Annotations = map[string]string{odoov1alpha2.AnnotationSuspend: "true"}
				i.Status.LastBackup = ago(3 * time.Hour)
				i.Status.Conditions = append(i.Status.Conditions, metav1.Condition{Type: odoov1alpha2.ConditionBackupSucceeded,
					Status: metav1.ConditionFalse, Reason: odoov1alpha2.ReasonBackupFailed, Message: "nightly failed: disk full"})
				i.Status.Health = &odoov1alpha2.HealthStatus{Status: "Degraded", ErrorCount: 3, Errors: []odoov1alpha2.HealthError{
					{Category: "DatabaseSchema", Count: 2}, {Category: "ModuleLoading", Count: 1}}}
				i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationRestore, Name: "undo", Step: "Swap", Started: *ago(150 * time.Second)}
			},
			want: []string{
				"Phase:        Running (suspended: reconciliation paused until `kubectl odoo resume shop`)\n",
				"Last backup:  2026-12-07 05:00:00 UTC (3h ago); newest failed: nightly failed: disk full\n",
				"Health:       Degraded, 3 errors in the window\n              DatabaseSchema  2\n              ModuleLoading   1\n",
				"Operation:    Restore undo, step Swap, for 2m30s\n",
				"  BackupSucceeded  False  BackupFailed  nightly failed: disk full\n",
			},
		},
		{
			name: "new instance: nothing serves yet",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Status = odoov1alpha2.OdooInstanceStatus{}
			},
			want: []string{"Phase:        Unknown\n", "Ready:        Unknown (0/1 web pods ready)\n",
				"Image:        odoo:18.0 (wanted; not serving yet)\n", "Database:     not created yet\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := running()
			if tc.mutate != nil {
				tc.mutate(inst)
			}
			var b bytes.Buffer
			if err := renderStatus(&b, buildReport(inst, nil, nil, now), now); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(b.String(), a) {
					t.Errorf("output has %q:\n%s", a, b.String())
				}
			}
		})
	}
}

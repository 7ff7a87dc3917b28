package observe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func at(sec int64) *metav1.Time { t := metav1.NewTime(time.Unix(sec, 0)); return &t }

func cond(typ, status, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, Message: "m", LastTransitionTime: metav1.NewTime(time.Unix(1e9, 0))}
}

// create stores obj, then its status (the status subresource ignores the
// status of a create).
func create[T client.Object](t *testing.T, obj T, setStatus func(T)) T {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
	if setStatus != nil {
		setStatus(obj)
		if err := k8s.Status().Update(ctx, obj); err != nil {
			t.Fatalf("status of %T %s: %v", obj, obj.GetName(), err)
		}
	}
	return obj
}

func instance(ns, name string) *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", AdminPassword: "master"},
	}
}

func backupJob(name string) *odoov1alpha2.OdooBackupJob {
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "metrics"},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Destination:     odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "x"}},
		},
	}
}

func restoreJob(ns, name, inst string) *odoov1alpha2.OdooRestoreJob {
	return &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst},
			Source:          odoov1alpha2.RestoreSource{Type: "pvc", PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "x"}},
		},
	}
}

// TestCollectorScrapesRealObjects stores instances, backups and restores in
// a real API server, scrapes a registry holding the collector, and checks
// every per-instance metric family against what the statuses say.
func TestCollectorScrapesRealObjects(t *testing.T) {
	ctx := context.Background()
	const ns = "metrics"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}

	// shop: an upgrade runs (no status.operation yet: the fallback names
	// it), PostgreSQL is unreachable, the logs hold errors, a rollback holds.
	shop := instance(ns, "shop")
	shop.Spec.Backup.Schedule = "0 3 * * *"
	shop.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}
	shop = create(t, shop, func(i *odoov1alpha2.OdooInstance) {
		i.Status.Phase = odoov1alpha2.PhaseUpgrading
		i.Status.ReadyReplicas = 1
		i.Status.Conditions = []metav1.Condition{
			cond(odoov1alpha2.ConditionReady, "False", odoov1alpha2.ReasonUpgrading),
			cond(odoov1alpha2.ConditionDatabaseReady, "False", odoov1alpha2.ReasonDatabaseUnreachable),
			cond(odoov1alpha2.ConditionHealthy, "False", odoov1alpha2.ReasonErrorsLogged),
			cond(odoov1alpha2.ConditionRolledBack, "True", odoov1alpha2.ReasonCrashLooping),
		}
		i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepUpgrade, StartTime: at(1_700_000_000)}
		i.Status.Health = &odoov1alpha2.HealthStatus{Status: "Degraded", ErrorCount: 6, Errors: []odoov1alpha2.HealthError{
			{Category: "DatabaseSchema", Count: 3, Message: "column x does not exist"},
			{Category: "DatabaseSchema", Count: 2, Message: "relation y does not exist"},
			{Count: 1, Message: "something else"},
		}}
		i.Status.Deployment.Rollback = &odoov1alpha2.RollbackStatus{FromImage: "odoo:bad", ToImage: "odoo:good", Reason: odoov1alpha2.ReasonCrashLooping, Time: at(1_700_000_500)}
	})
	// idle: Ready, its last upgrade failed, status.operation says a backup
	// holds the database.
	idle := create(t, instance(ns, "idle"), func(i *odoov1alpha2.OdooInstance) {
		i.Status.Phase = odoov1alpha2.PhaseRunning
		i.Status.Conditions = []metav1.Condition{
			cond(odoov1alpha2.ConditionReady, "True", odoov1alpha2.ReasonAvailable),
			cond(odoov1alpha2.ConditionDatabaseReady, "True", odoov1alpha2.ReasonDatabaseReady),
		}
		i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeFailed, Step: odoov1alpha2.UpgradeStepDone, StartTime: at(1_700_000_000), CompletionTime: at(1_700_000_090)}
		i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationBackup, Name: "idle-b", Step: "Running", Started: *at(1_700_001_000)}
	})

	create(t, backupJob("shop-1"), func(b *odoov1alpha2.OdooBackupJob) {
		b.Status.Phase, b.Status.CompletionTime, b.Status.BackupSize = odoov1alpha2.JobCompleted, at(1_700_002_000), "1234"
	})
	rp := backupJob("shop-restore-point")
	rp.Labels = map[string]string{resources.LabelRestorePoint: "true"}
	create(t, rp, func(b *odoov1alpha2.OdooBackupJob) { // newer, but a restore point: not "the last backup"
		b.Status.Phase, b.Status.CompletionTime, b.Status.BackupSize = odoov1alpha2.JobCompleted, at(1_700_003_000), "99"
	})
	create(t, backupJob("shop-2"), func(b *odoov1alpha2.OdooBackupJob) { b.Status.Phase = odoov1alpha2.JobFailed })
	create(t, backupJob("shop-3"), func(b *odoov1alpha2.OdooBackupJob) {
		b.Status.Phase, b.Status.StartTime = odoov1alpha2.JobRunning, at(1_700_004_000)
	})
	create(t, restoreJob(ns, "idle-r", "idle"), func(r *odoov1alpha2.OdooRestoreJob) {
		r.Status.Phase, r.Status.Step = odoov1alpha2.JobRunning, odoov1alpha2.RestoreStepLoad
	})

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&Collector{Reader: k8s, Log: logr.Discard()})

	var phases strings.Builder
	for _, inst := range []struct{ name, phase string }{{"idle", "Running"}, {"shop", "Upgrading"}} {
		for _, p := range []string{"Degraded", "Failed", "Initializing", "Migrating", "Pending", "Restoring", "RollingBack", "Running", "Stopped", "Upgrading"} {
			fmt.Fprintf(&phases, "odoo_operator_instance_phase{name=%q,namespace=%q,phase=%q} %d\n", inst.name, ns, p, map[bool]int{true: 1}[p == inst.phase])
		}
	}
	created := func(i *odoov1alpha2.OdooInstance) float64 { return float64(i.CreationTimestamp.Unix()) }
	want := map[string]string{
		"odoo_operator_instance_phase": phases.String(),
		"odoo_operator_instance_ready": `
odoo_operator_instance_ready{name="idle",namespace="metrics"} 1
odoo_operator_instance_ready{name="shop",namespace="metrics"} 0
`,
		"odoo_operator_instance_ready_replicas": `
odoo_operator_instance_ready_replicas{name="idle",namespace="metrics"} 0
odoo_operator_instance_ready_replicas{name="shop",namespace="metrics"} 1
`,
		"odoo_operator_instance_desired_replicas": `
odoo_operator_instance_desired_replicas{name="idle",namespace="metrics"} 1
odoo_operator_instance_desired_replicas{name="shop",namespace="metrics"} 1
`,
		"odoo_operator_instance_created_timestamp_seconds": fmt.Sprintf(`
odoo_operator_instance_created_timestamp_seconds{name="idle",namespace="metrics"} %g
odoo_operator_instance_created_timestamp_seconds{name="shop",namespace="metrics"} %g
`, created(idle), created(shop)),
		"odoo_operator_instance_operation": `
odoo_operator_instance_operation{kind="Backup",name="idle",namespace="metrics",step="Running"} 1
odoo_operator_instance_operation{kind="Upgrade",name="shop",namespace="metrics",step="Upgrade"} 1
`,
		"odoo_operator_instance_operation_started_timestamp_seconds": `
odoo_operator_instance_operation_started_timestamp_seconds{kind="Backup",name="idle",namespace="metrics"} 1.700001e+09
odoo_operator_instance_operation_started_timestamp_seconds{kind="Upgrade",name="shop",namespace="metrics"} 1.7e+09
`,
		"odoo_operator_instance_database_reachable": `
odoo_operator_instance_database_reachable{name="idle",namespace="metrics"} 1
odoo_operator_instance_database_reachable{name="shop",namespace="metrics"} 0
`,
		"odoo_operator_instance_database_ready": `
odoo_operator_instance_database_ready{name="idle",namespace="metrics"} 1
odoo_operator_instance_database_ready{name="shop",namespace="metrics"} 0
`,
		"odoo_operator_instance_health_errors": `
odoo_operator_instance_health_errors{category="DatabaseSchema",name="shop",namespace="metrics"} 5
odoo_operator_instance_health_errors{category="Other",name="shop",namespace="metrics"} 1
`,
		"odoo_operator_instance_healthy": `
odoo_operator_instance_healthy{name="shop",namespace="metrics"} 0
`,
		"odoo_operator_instance_rolled_back": `
odoo_operator_instance_rolled_back{name="idle",namespace="metrics"} 0
odoo_operator_instance_rolled_back{name="shop",namespace="metrics"} 1
`,
		"odoo_operator_instance_last_rollback_timestamp_seconds": `
odoo_operator_instance_last_rollback_timestamp_seconds{name="shop",namespace="metrics",reason="CrashLooping"} 1.7000005e+09
`,
		"odoo_operator_instance_upgrade_last_result": `
odoo_operator_instance_upgrade_last_result{name="idle",namespace="metrics",result="Failed"} 1
odoo_operator_instance_upgrade_last_result{name="idle",namespace="metrics",result="Pending"} 0
odoo_operator_instance_upgrade_last_result{name="idle",namespace="metrics",result="Running"} 0
odoo_operator_instance_upgrade_last_result{name="idle",namespace="metrics",result="Success"} 0
odoo_operator_instance_upgrade_last_result{name="shop",namespace="metrics",result="Failed"} 0
odoo_operator_instance_upgrade_last_result{name="shop",namespace="metrics",result="Pending"} 0
odoo_operator_instance_upgrade_last_result{name="shop",namespace="metrics",result="Running"} 1
odoo_operator_instance_upgrade_last_result{name="shop",namespace="metrics",result="Success"} 0
`,
		"odoo_operator_instance_upgrade_last_completion_timestamp_seconds": `
odoo_operator_instance_upgrade_last_completion_timestamp_seconds{name="idle",namespace="metrics"} 1.70000009e+09
`,
		"odoo_operator_instance_upgrade_last_duration_seconds": `
odoo_operator_instance_upgrade_last_duration_seconds{name="idle",namespace="metrics"} 90
`,
		"odoo_operator_instance_backup_scheduled": `
odoo_operator_instance_backup_scheduled{name="idle",namespace="metrics"} 0
odoo_operator_instance_backup_scheduled{name="shop",namespace="metrics"} 1
`,
		"odoo_operator_instance_last_backup_success_timestamp_seconds": `
odoo_operator_instance_last_backup_success_timestamp_seconds{name="shop",namespace="metrics"} 1.700002e+09
`,
		"odoo_operator_instance_last_backup_size_bytes": `
odoo_operator_instance_last_backup_size_bytes{name="shop",namespace="metrics"} 1234
`,
		"odoo_operator_instance_backup_jobs": `
odoo_operator_instance_backup_jobs{name="shop",namespace="metrics",phase="Completed"} 2
odoo_operator_instance_backup_jobs{name="shop",namespace="metrics",phase="Failed"} 1
odoo_operator_instance_backup_jobs{name="shop",namespace="metrics",phase="Pending"} 0
odoo_operator_instance_backup_jobs{name="shop",namespace="metrics",phase="Running"} 1
`,
		"odoo_operator_instance_restore_jobs": `
odoo_operator_instance_restore_jobs{name="idle",namespace="metrics",phase="Completed"} 0
odoo_operator_instance_restore_jobs{name="idle",namespace="metrics",phase="Failed"} 0
odoo_operator_instance_restore_jobs{name="idle",namespace="metrics",phase="Pending"} 0
odoo_operator_instance_restore_jobs{name="idle",namespace="metrics",phase="Running"} 1
`,
		"odoo_operator_collector_errors": `
odoo_operator_collector_errors{kind="OdooBackupJob"} 0
odoo_operator_collector_errors{kind="OdooInstance"} 0
odoo_operator_collector_errors{kind="OdooRestoreJob"} 0
`,
	}
	// Every family the collector describes is checked.
	descs := make(chan *prometheus.Desc, 64)
	(&Collector{}).Describe(descs)
	close(descs)
	for d := range descs {
		name := strings.Split(strings.TrimPrefix(d.String(), `Desc{fqName: "`), `"`)[0]
		if _, ok := want[name]; !ok {
			t.Errorf("metric family %s is not checked by this test", name)
		}
	}
	for name, body := range want {
		if err := testutil.GatherAndCompare(reg, strings.NewReader(withHeader(t, reg, name)+body), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// withHeader is the HELP/TYPE header of a family as the registry exposes it,
// so that the test compares values and labels, not help strings twice.
func withHeader(t *testing.T, reg *prometheus.Registry, name string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return fmt.Sprintf("# HELP %s %s\n# TYPE %s %s\n", name, mf.GetHelp(), name, strings.ToLower(mf.GetType().String()))
		}
	}
	t.Errorf("metric family %s is missing from the scrape", name)
	return ""
}

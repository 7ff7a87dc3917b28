package stagingrefresh

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func refresh(mod ...func(*odoov1alpha2.OdooStagingRefreshJob)) *odoov1alpha2.OdooStagingRefreshJob {
	sr := &odoov1alpha2.OdooStagingRefreshJob{
		ObjectMeta: metav1.ObjectMeta{Name: "r1", Namespace: "ns", UID: types.UID("uid-r1")},
		Spec: odoov1alpha2.OdooStagingRefreshJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "staging"},
			Source:          odoov1alpha2.StagingSource{InstanceName: "shop"},
		},
	}
	for _, m := range mod {
		m(sr)
	}
	return sr
}

func instance(name string, env odoov1alpha2.Environment, mod ...func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	inst.Spec.Environment = env
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Name: "ns_" + name, Initialized: true}
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}
	for _, m := range mod {
		m(inst)
	}
	return inst
}

func owned(refs *[]metav1.OwnerReference) {
	*refs = []metav1.OwnerReference{{Kind: "OdooStagingRefreshJob", Name: "r1", UID: "uid-r1", Controller: ptr.To(true)}}
}

func backup(phase odoov1alpha2.JobPhase, key string, own bool) *odoov1alpha2.OdooBackupJob {
	b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "r1-backup"}}
	b.Status.Phase, b.Status.ObjectKey, b.Status.Message = phase, key, "boom"
	if own {
		owned(&b.OwnerReferences)
	}
	return b
}

func restoreJob(phase odoov1alpha2.JobPhase, own bool) *odoov1alpha2.OdooRestoreJob {
	rj := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "r1-restore"}}
	rj.Status.Phase, rj.Status.Message, rj.Status.KeptDatabase = phase, "neutralize check failed", "ns_staging_pre_restore"
	if own {
		owned(&rj.OwnerReferences)
	}
	return rj
}

func atRestore(sr *odoov1alpha2.OdooStagingRefreshJob) {
	sr.Status.Step, sr.Status.BackupObjectKey = odoov1alpha2.StagingRefreshStepRestore, "k/shop.zip"
}

func TestDecide(t *testing.T) {
	staging := instance("staging", odoov1alpha2.EnvironmentStaging)
	shop := instance("shop", odoov1alpha2.EnvironmentProduction)
	for _, tc := range []struct {
		name    string
		f       Facts
		want    Kind
		message string
	}{
		{"finished: nothing", Facts{Refresh: refresh(func(sr *odoov1alpha2.OdooStagingRefreshJob) { sr.Status.Phase = odoov1alpha2.JobCompleted })}, Nothing, ""},
		{"staging not found yet", Facts{Refresh: refresh(), Source: shop}, Pending, "waiting for the OdooInstance staging to exist"},
		{"production not found yet", Facts{Refresh: refresh(), Target: staging}, Pending, "waiting for the OdooInstance shop to exist"},
		{"first step: back production up", Facts{Refresh: refresh(), Target: staging, Source: shop}, CreateBackup, "backing up production shop"},
		{"staging's lock held: wait", Facts{Refresh: refresh(), Source: shop, Target: instance("staging", odoov1alpha2.EnvironmentStaging, func(i *odoov1alpha2.OdooInstance) {
			i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationUpgrade, Name: "staging"}
		})}, Pending, "staging: waiting for"},
		{"staging not initialised: wait for its init", Facts{Refresh: refresh(), Source: shop, Target: instance("staging", odoov1alpha2.EnvironmentStaging, func(i *odoov1alpha2.OdooInstance) {
			i.Status.Database.Initialized = false
		})}, Pending, "staging: waiting for the instance's database to be initialised"},
		{"the target is production: refused", Facts{Refresh: refresh(), Target: instance("staging", odoov1alpha2.EnvironmentProduction), Source: shop}, Refuse, "is not spec.environment Staging"},
		{"the target has no environment: refused", Facts{Refresh: refresh(), Target: instance("staging", ""), Source: shop}, Refuse, "is not spec.environment Staging"},
		{"the source is the target: refused", Facts{Refresh: refresh(func(sr *odoov1alpha2.OdooStagingRefreshJob) { sr.Spec.Source.InstanceName = "staging" }), Target: staging, Source: staging}, Refuse, "names the staging instance itself"},
		{"staging on production's database: refused", Facts{Refresh: refresh(), Source: shop, Target: instance("staging", odoov1alpha2.EnvironmentStaging, func(i *odoov1alpha2.OdooInstance) {
			i.Status.Database.Name = "ns_shop"
		})}, Refuse, "would swap staging onto production's database"},
		{"staging names another production: refused", Facts{Refresh: refresh(), Source: shop, Target: instance("staging", odoov1alpha2.EnvironmentStaging, func(i *odoov1alpha2.OdooInstance) {
			i.Spec.ProductionInstanceRef = &odoov1alpha2.ProductionInstanceRef{Name: "other"}
		})}, Refuse, "is not the staging instance's spec.productionInstanceRef.name other"},
		{"production without backup destination: refused", Facts{Refresh: refresh(), Target: staging, Source: instance("shop", odoov1alpha2.EnvironmentProduction, func(i *odoov1alpha2.OdooInstance) {
			i.Spec.Backup.Destination = nil
		})}, Refuse, "has no spec.backup.destination"},
		{"another namespace: refused", Facts{Refresh: refresh(func(sr *odoov1alpha2.OdooStagingRefreshJob) { sr.Spec.Source.InstanceNamespace = "victim" }), Target: staging, Source: shop}, Refuse, "spec.source.instanceNamespace \"victim\""},
		{"target in another namespace: refused", Facts{Refresh: refresh(func(sr *odoov1alpha2.OdooStagingRefreshJob) { sr.Spec.OdooInstanceRef.Namespace = "victim" }), Target: staging, Source: shop}, Refuse, "spec.odooInstanceRef.namespace \"victim\""},
		{"snapshot: refused", Facts{Refresh: refresh(func(sr *odoov1alpha2.OdooStagingRefreshJob) {
			sr.Spec.FilestoreMethod = odoov1alpha2.StagingFilestoreSnapshot
		}), Target: staging, Source: shop}, Refuse, "snapshot is not supported"},
		{"backup runs: wait", Facts{Refresh: refresh(), Target: staging, Source: shop, Backup: backup(odoov1alpha2.JobRunning, "", true)}, Wait, "backing up production shop (OdooBackupJob r1-backup Running)"},
		{"backup not ours: refused", Facts{Refresh: refresh(), Target: staging, Source: shop, Backup: backup(odoov1alpha2.JobCompleted, "k", false)}, Refuse, "was not created by this refresh"},
		{"backup failed: failed", Facts{Refresh: refresh(), Target: staging, Source: shop, Backup: backup(odoov1alpha2.JobFailed, "", true)}, Fail, "production's backup r1-backup failed: boom; staging keeps its database"},
		{"backup completed: recorded", Facts{Refresh: refresh(), Target: staging, Source: shop, Backup: backup(odoov1alpha2.JobCompleted, "k/shop.zip", true)}, RecordBackup, "production backed up"},
		{"restore step: create the restore", Facts{Refresh: refresh(atRestore), Target: staging, Source: shop, Backup: backup(odoov1alpha2.JobCompleted, "k", true)}, CreateRestore, "restoring production's backup into staging (OdooRestoreJob r1-restore)"},
		{"restore step, backup object gone: still restores", Facts{Refresh: refresh(atRestore), Target: staging, Source: shop}, CreateRestore, ""},
		{"restore step: staging turned production: refused", Facts{Refresh: refresh(atRestore), Target: instance("staging", odoov1alpha2.EnvironmentProduction), Source: shop}, Refuse, "is not spec.environment Staging"},
		{"restore step: staging deleted: failed", Facts{Refresh: refresh(atRestore), Source: shop}, Fail, "deleted before the restore started"},
		{"restore runs: wait, even if the lock is the restore's", Facts{Refresh: refresh(atRestore), Source: shop, Target: instance("staging", odoov1alpha2.EnvironmentStaging, func(i *odoov1alpha2.OdooInstance) {
			i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationRestore, Name: "r1-restore", Step: "Swap"}
		}), Restore: restoreJob(odoov1alpha2.JobRunning, true)}, Wait, "restoring into staging (OdooRestoreJob r1-restore at Running)"},
		{"restore not ours: refused", Facts{Refresh: refresh(atRestore), Target: staging, Source: shop, Restore: restoreJob(odoov1alpha2.JobRunning, false)}, Refuse, "was not created by this refresh"},
		{"restore failed: failed", Facts{Refresh: refresh(atRestore), Target: staging, Source: shop, Restore: restoreJob(odoov1alpha2.JobFailed, true)}, Fail, "the restore r1-restore into staging failed: neutralize check failed"},
		{"restore completed: completed", Facts{Refresh: refresh(atRestore), Target: staging, Source: shop, Restore: restoreJob(odoov1alpha2.JobCompleted, true)}, Complete, "the previous database is kept as \"ns_staging_pre_restore\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Decide(tc.f)
			if a.Kind != tc.want || !strings.Contains(a.Message, tc.message) {
				t.Errorf("Decide = %s %q, want %s containing %q", a.Kind, a.Message, tc.want, tc.message)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	staging := func(ann map[string]string, ref bool, env odoov1alpha2.Environment) *odoov1alpha2.OdooInstance {
		inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "staging", Namespace: "ns", Annotations: ann}}
		inst.Spec.Environment = env
		if ref {
			inst.Spec.ProductionInstanceRef = &odoov1alpha2.ProductionInstanceRef{Name: "shop"}
		}
		return inst
	}
	tok := map[string]string{odoov1alpha2.AnnotationRefreshStaging: "2026-12-07"}
	done := map[string]string{odoov1alpha2.AnnotationStagingInitialRefresh: "staging-initial"}
	both := map[string]string{odoov1alpha2.AnnotationStagingInitialRefresh: "staging-initial", odoov1alpha2.AnnotationRefreshStaging: "2026-12-07"}
	other := map[string]string{odoov1alpha2.AnnotationStagingInitialRefresh: "staging-initial", odoov1alpha2.AnnotationRefreshStaging: "2026-12-08"}
	for _, tc := range []struct {
		name string
		inst *odoov1alpha2.OdooInstance
		want Request
	}{
		{"no production: nothing", staging(tok, false, odoov1alpha2.EnvironmentStaging), Request{}},
		{"not staging: nothing", staging(tok, true, odoov1alpha2.EnvironmentProduction), Request{}},
		{"new staging: the first refresh", staging(nil, true, odoov1alpha2.EnvironmentStaging), Request{Initial: "staging-initial"}},
		{"first refresh asked before: nothing", staging(done, true, odoov1alpha2.EnvironmentStaging), Request{}},
		{"annotation", staging(both, true, odoov1alpha2.EnvironmentStaging), Request{Annotated: "staging-refresh-" + hash8("2026-12-07")}},
		{"new annotation value: a new refresh", staging(other, true, odoov1alpha2.EnvironmentStaging), Request{Annotated: "staging-refresh-" + hash8("2026-12-08")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Requests(tc.inst); got != tc.want {
				t.Errorf("Requests = %+v, want %+v", got, tc.want)
			}
		})
	}
	long := staging(nil, true, odoov1alpha2.EnvironmentStaging)
	long.Name = strings.Repeat("a", 63)
	if n := AnnotatedRefreshName(long, "x"); len(n) > 40 {
		t.Errorf("AnnotatedRefreshName of a long instance = %q (%d characters), want at most 40", n, len(n))
	}
}

func hash8(s string) string {
	return AnnotatedRefreshName(&odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, s)[len("x-refresh-"):]
}

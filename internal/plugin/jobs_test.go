package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestParseLocation(t *testing.T) {
	s3 := s3Flags{endpoint: "https://s3.example.com", secret: "s3-creds", region: "eu"}
	for _, tc := range []struct {
		loc     string
		s3      s3Flags
		want    string // claim:path or bucket/key@endpoint#secret
		wantErr string
	}{
		{loc: "pvc:backups/shop/manual.zip", want: "backups:shop/manual.zip"},
		{loc: "pvc:backups/a//b/../c.zip", want: "backups:a/c.zip"},
		{loc: "pvc:backups", wantErr: "write pvc:CLAIM/PATH"},
		{loc: "s3://odoo/shop/x.zip", s3: s3, want: "odoo/shop/x.zip@https://s3.example.com#s3-creds"},
		{loc: "s3://odoo/shop/x.zip", wantErr: "needs --s3-endpoint and --s3-secret"},
		{loc: "s3://odoo", s3: s3, wantErr: "write s3://BUCKET/KEY"},
		{loc: "/tmp/x.zip", wantErr: "write pvc:CLAIM/PATH or s3://BUCKET/KEY"},
	} {
		d, err := parseLocation(tc.loc, tc.s3)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.loc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.loc, err)
			continue
		}
		got := ""
		if d.PVC != nil {
			got = d.PVC.ClaimName + ":" + d.PVC.Path
		} else {
			got = d.Bucket + "/" + d.ObjectKey + "@" + d.Endpoint + "#" + d.S3CredentialsSecretRef.Name
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.loc, got, tc.want)
		}
	}
}

func TestBackupForUsesTheScheduleDestination(t *testing.T) {
	inst := running()
	if _, err := backupFor(inst, "b", "", odoov1alpha2.BackupFormatZip, s3Flags{}); err == nil || !strings.Contains(err.Error(), "spec.backup.destination") {
		t.Errorf("no destination anywhere: error %v, want one naming --destination and spec.backup.destination", err)
	}
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}
	b, err := backupFor(inst, "shop-backup-1", "", odoov1alpha2.BackupFormatZip, s3Flags{})
	if err != nil {
		t.Fatal(err)
	}
	// As a scheduled backup: the path is a directory.
	if p := b.Spec.Destination.PVC; p.ClaimName != "backups" || p.Path != "shop/shop-backup-1.zip" || b.Spec.OdooInstanceRef.Name != "shop" || b.Namespace != "acme" {
		t.Errorf("backup = %+v %+v", b.ObjectMeta, b.Spec)
	}
	if inst.Spec.Backup.Destination.PVC.Path != "shop" {
		t.Errorf("the instance's destination was changed")
	}
	b, err = backupFor(inst, "x", "pvc:other/x.zip", odoov1alpha2.BackupFormatZip, s3Flags{})
	if err != nil || b.Spec.Destination.PVC.ClaimName != "other" || b.Spec.Destination.PVC.Path != "x.zip" {
		t.Errorf("--destination does not win: %+v %v", b, err)
	}
}

func TestTimestampNameFits(t *testing.T) {
	at := time.Date(2026, 12, 7, 7, 1, 2, 0, time.UTC)
	if got := timestampName("shop", "backup", at); got != "shop-backup-20261207-070102" {
		t.Errorf("name %s", got)
	}
	long := strings.Repeat("a", 60)
	if got := timestampName(long, "restore", at); len(got) > 63 || !strings.HasSuffix(got, "-restore-20261207-070102") {
		t.Errorf("name %s (%d bytes)", got, len(got))
	}
}

func TestRestoreSourceOf(t *testing.T) {
	pvc := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "manual"}}
	pvc.Spec.Destination.PVC = &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop/manual.zip"}
	if _, err := restoreSourceOf(pvc); err == nil || !strings.Contains(err.Error(), "OdooBackupJob manual is Pending: only a Completed backup") {
		t.Errorf("a pending backup: %v", err)
	}
	pvc.Status.Phase = odoov1alpha2.JobCompleted
	pvc.Status.ObjectKey = "acme/shop-uid/manual-uid.zip"
	src, err := restoreSourceOf(pvc)
	if err != nil || src.Type != odoov1alpha2.RestoreSourcePVC || src.PVC.ClaimName != "backups" || src.PVC.Path != "acme/shop-uid/manual-uid.zip" {
		t.Errorf("pvc source %+v %v: want the key the backup wrote", src, err)
	}
	s3 := &odoov1alpha2.OdooBackupJob{}
	s3.Status.Phase = odoov1alpha2.JobCompleted
	s3.Status.ObjectKey = "acme/shop-uid/n-uid.zip"
	s3.Spec.Destination.S3Location = odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "shop/n.zip", Endpoint: "https://s3", S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "c"}}
	src, err = restoreSourceOf(s3)
	if err != nil || src.Type != odoov1alpha2.RestoreSourceS3 || src.S3.ObjectKey != "acme/shop-uid/n-uid.zip" || src.S3.Bucket != "b" || src.S3.S3CredentialsSecretRef.Name != "c" {
		t.Errorf("s3 source %+v %v", src, err)
	}
	if s3.Spec.Destination.ObjectKey != "shop/n.zip" {
		t.Errorf("the backup's destination was changed")
	}
}

func TestObservations(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "manual-backup-x1"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "backup", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}}
	b := &odoov1alpha2.OdooBackupJob{}
	if got := backupObservation(b, nil); got.line != "Pending" || got.done {
		t.Errorf("new backup: %+v", got)
	}
	// Why it waits is the news of a pending backup.
	b.Status.Phase, b.Status.Message = odoov1alpha2.JobPending, "waiting for the restore undo to end"
	if got := backupObservation(b, nil); got.line != "Pending    waiting for the restore undo to end" || got.done {
		t.Errorf("backup waiting for the lock: %q", got.line)
	}
	b.Status.Phase, b.Status.JobName, b.Status.Message = odoov1alpha2.JobRunning, "manual-backup", ""
	if got := backupObservation(b, pod); got.line != "Running    Job manual-backup, pod manual-backup-x1 Pending (backup: ContainerCreating)" || got.done {
		t.Errorf("running backup: %q", got.line)
	}
	b.Status.Phase, b.Status.BackupSize, b.Status.Message = odoov1alpha2.JobCompleted, "1258291", "backup stored at acme/shop/manual.zip"
	if got := backupObservation(b, pod); got.line != "Completed  1.2 MiB  backup stored at acme/shop/manual.zip" || !got.done || got.failed {
		t.Errorf("completed backup: %+v", got)
	}
	b.Status.Phase, b.Status.Message = odoov1alpha2.JobFailed, "pg_dump: error:\n connection refused"
	if got := backupObservation(b, pod); got.line != "Failed     pg_dump: error: connection refused" || !got.done || !got.failed {
		t.Errorf("failed backup: %+v", got)
	}

	r := &odoov1alpha2.OdooRestoreJob{}
	r.Status.Phase, r.Status.Step, r.Status.JobName = odoov1alpha2.JobRunning, odoov1alpha2.RestoreStepLoad, "undo-restore"
	pod.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "restore",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}}}}
	if got := restoreObservation(r, pod); got.line != "Running    step Load  Job undo-restore, pod manual-backup-x1 Failed (restore: exit 2 Error)" {
		t.Errorf("restore loading: %q", got.line)
	}
	r.Status.Step = odoov1alpha2.RestoreStepFilestore
	if got := restoreObservation(r, pod); got.line != "Running    step Filestore" || got.done {
		t.Errorf("restore moving the filestore: %q (the loading Job is history)", got.line)
	}
	r.Status.Step, r.Status.Message = odoov1alpha2.RestoreStepStop, "the backup is loaded;\nstopping web and cron"
	if got := restoreObservation(r, pod); got.line != "Running    step Stop  the backup is loaded; stopping web and cron" || got.done {
		t.Errorf("restore stopping the instance: %q (what the step does)", got.line)
	}
	r.Status.Phase, r.Status.Step, r.Status.Message = odoov1alpha2.JobCompleted, odoov1alpha2.RestoreStepDone, "restored"
	if got := restoreObservation(r, nil); got.line != "Completed  restored" || !got.done || got.failed {
		t.Errorf("restore done: %+v", got)
	}
}

func TestRenderHealth(t *testing.T) {
	inst := running()
	var b bytes.Buffer
	inst.Spec.LogMonitoring.Enabled = new(bool)
	_ = renderHealth(&b, inst, now)
	if !strings.Contains(b.String(), "Log monitoring is off for shop") {
		t.Errorf("monitoring off: %s", b.String())
	}
	inst.Spec.LogMonitoring.Enabled = nil
	b.Reset()
	_ = renderHealth(&b, inst, now)
	if !strings.Contains(b.String(), "No log sample of shop yet") {
		t.Errorf("no sample: %s", b.String())
	}
	inst.Status.Health = &odoov1alpha2.HealthStatus{Status: "Degraded", ErrorCount: 3, LastErrorTime: ago(time.Minute), Errors: []odoov1alpha2.HealthError{
		{Timestamp: ago(time.Minute), Level: "CRITICAL", Category: "ModuleLoading", Count: 1, Message: "odoo.service.server: Failed to initialize database `shop`."},
		{Timestamp: ago(2 * time.Minute), Level: "ERROR", Category: "DatabaseSchema", Count: 2, Message: "odoo.sql_db: bad query\nERROR: column x does not exist"},
	}}
	b.Reset()
	_ = renderHealth(&b, inst, now)
	want := "Health of shop: Degraded, 3 errors in the sampling window, newest 2026-12-07 07:59:00 UTC (60s ago)\n\n" +
		"CATEGORY        COUNT\nDatabaseSchema  2\nModuleLoading   1\n\nErrors, newest first:\n" +
		"2026-12-07 07:59:00 UTC  CRITICAL  ModuleLoading  x1\n    odoo.service.server: Failed to initialize database `shop`.\n" +
		"2026-12-07 07:58:00 UTC  ERROR  DatabaseSchema  x2\n    odoo.sql_db: bad query\n    ERROR: column x does not exist\n"
	if b.String() != want {
		t.Errorf("health:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSimulatedNode(t *testing.T) {
	if why := simulatedNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kwok-node-0", Annotations: map[string]string{kwokNode: "fake"}}}); !strings.Contains(why, "KWOK simulated node") {
		t.Errorf("KWOK node: %q", why)
	}
	if why := simulatedNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}); why != "" {
		t.Errorf("real node: %q", why)
	}
	if why := simulatedNode(nil); why != "" {
		t.Errorf("unknown node: %q", why)
	}
}

// TestPsqlScriptKeepsThePasswordInThePod: the password is read inside the
// pod; the plugin's command line (kubectl exec's arguments) never holds it.
func TestPsqlScriptKeepsThePasswordInThePod(t *testing.T) {
	for _, want := range []string{`PGPASSWORD="$(get db_password)"`, `"${ODOO_RC:-/etc/odoo/odoo.conf}"`, `exec psql "$@"`} {
		if !strings.Contains(psqlScript, want) {
			t.Errorf("psql script lacks %s", want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for in, want := range map[string]string{"0": "0 B", "1353": "1.3 KiB", "1048576": "1.0 MiB", "5368709120": "5.0 GiB", "12Mi": "12Mi", "": ""} {
		if got := humanSize(in); got != want {
			t.Errorf("humanSize(%q) = %q, want %q", in, got, want)
		}
	}
}

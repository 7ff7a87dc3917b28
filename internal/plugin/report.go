package plugin

import (
	"sort"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Report is what `kubectl odoo status` shows, also printed as JSON or YAML
// with -o. Built from the objects by buildReport, a pure function.
type Report struct {
	Name       string                       `json:"name"`
	Namespace  string                       `json:"namespace"`
	Phase      string                       `json:"phase"`
	Ready      string                       `json:"ready"`
	Replicas   string                       `json:"replicas"`
	URL        string                       `json:"url,omitempty"`
	Suspended  bool                         `json:"suspended"`
	Images     Images                       `json:"images"`
	Database   *odoov1alpha2.DatabaseStatus `json:"database,omitempty"`
	LastBackup *BackupReport                `json:"lastBackup,omitempty"`
	Health     *HealthReport                `json:"health,omitempty"`
	Operation  *OperationReport             `json:"operation,omitempty"`
	Upgrade    *UpgradeReport               `json:"lastUpgrade,omitempty"`
	Problems   []ConditionReport            `json:"conditionsNotOK,omitempty"`
}

// Images are the images serving and the ones the spec asks for: they differ
// during an upgrade, after a failed one and after a rollback.
type Images struct {
	Serving     string `json:"serving,omitempty"`
	Wanted      string `json:"wanted"`
	CronServing string `json:"cronServing,omitempty"`
	CronWanted  string `json:"cronWanted,omitempty"`
}

// BackupReport is the newest successful backup and the newest outcome.
type BackupReport struct {
	Time    *metav1.Time `json:"time,omitempty"`
	Status  string       `json:"status,omitempty"`
	Message string       `json:"message,omitempty"`
}

// HealthReport is status.health summed by category.
type HealthReport struct {
	Status     string           `json:"status,omitempty"`
	ErrorCount int32            `json:"errorCount"`
	Categories []CategoryReport `json:"categories,omitempty"`
}

// CategoryReport is the number of errors of one category.
type CategoryReport struct {
	Category string `json:"category"`
	Count    int32  `json:"count"`
}

// OperationReport is the operation in progress.
type OperationReport struct {
	Kind    string       `json:"kind"`
	Name    string       `json:"name,omitempty"`
	Step    string       `json:"step,omitempty"`
	Started *metav1.Time `json:"started,omitempty"`
	Elapsed string       `json:"elapsed,omitempty"`
	// Source says where it was read: status.operation (the lock record) or
	// the operation's own status when no lock record exists.
	Source string `json:"source"`
}

// UpgradeReport is the last module upgrade.
type UpgradeReport struct {
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Result   string `json:"result"`
	Duration string `json:"duration,omitempty"`
	Trigger  string `json:"trigger,omitempty"`
	Message  string `json:"message,omitempty"`
}

// ConditionReport is a condition that is not as a healthy instance has it.
type ConditionReport struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// badWhenTrue are the conditions of negative polarity, and Progressing and
// Suspended, which a user watching an instance wants to see while True.
var badWhenTrue = map[string]bool{
	odoov1alpha2.ConditionDegraded:                 true,
	odoov1alpha2.ConditionStalled:                  true,
	odoov1alpha2.ConditionProgressing:              true,
	odoov1alpha2.ConditionLegacyDatabaseConnection: true,
	odoov1alpha2.ConditionRolledBack:               true,
	odoov1alpha2.ConditionSuspended:                true,
}

// buildReport summarises an instance and its backup and restore jobs at now.
func buildReport(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob,
	restores []odoov1alpha2.OdooRestoreJob, now time.Time) Report {
	st := inst.Status
	r := Report{
		Name: inst.Name, Namespace: inst.Namespace, Phase: string(st.Phase), URL: st.URL,
		Ready:     "Unknown",
		Replicas:  replicas(st.ReadyReplicas, inst.WebReplicas()),
		Suspended: suspendedInstance(inst),
		Images: Images{
			Serving: st.Deployment.CurrentImage, Wanted: inst.Spec.Image,
			CronServing: st.Deployment.CronImage, CronWanted: inst.CronImage(),
		},
		Database: st.Database,
	}
	if r.Phase == "" {
		r.Phase = "Unknown"
	}
	for _, c := range st.Conditions {
		if c.Type == odoov1alpha2.ConditionReady {
			r.Ready = string(c.Status)
		}
		bad := c.Status != metav1.ConditionTrue
		if badWhenTrue[c.Type] {
			bad = c.Status == metav1.ConditionTrue
		}
		if bad {
			r.Problems = append(r.Problems, ConditionReport{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message})
		}
	}
	r.LastBackup = backupReport(inst)
	r.Health = healthReport(st.Health)
	r.Operation = currentOperation(inst, backups, restores, now)
	r.Upgrade = upgradeReport(st.Upgrade)
	return r
}

func replicas(ready, want int32) string {
	return strconv.Itoa(int(ready)) + "/" + strconv.Itoa(int(want))
}

func backupReport(inst *odoov1alpha2.OdooInstance) *BackupReport {
	var c *metav1.Condition
	for i := range inst.Status.Conditions {
		if inst.Status.Conditions[i].Type == odoov1alpha2.ConditionBackupSucceeded {
			c = &inst.Status.Conditions[i]
		}
	}
	if inst.Status.LastBackup == nil && c == nil {
		return nil
	}
	b := &BackupReport{Time: inst.Status.LastBackup}
	if c != nil {
		b.Status, b.Message = string(c.Status), c.Message
	}
	return b
}

func healthReport(h *odoov1alpha2.HealthStatus) *HealthReport {
	if h == nil {
		return nil
	}
	r := &HealthReport{Status: h.Status, ErrorCount: h.ErrorCount}
	counts := map[string]int32{}
	for _, e := range h.Errors {
		cat := e.Category
		if cat == "" {
			cat = "Other"
		}
		counts[cat] += max(e.Count, 1)
	}
	for cat, n := range counts {
		r.Categories = append(r.Categories, CategoryReport{Category: cat, Count: n})
	}
	sort.Slice(r.Categories, func(i, j int) bool {
		a, b := r.Categories[i], r.Categories[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Category < b.Category
	})
	return r
}

// currentOperation is status.operation, the lock record, when set. Without
// it (an operator from before the lock record, or an operation that does not
// take it) it is read from the operations' own status: a running upgrade,
// a filestore migration copying, a running restore or backup.
func currentOperation(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob,
	restores []odoov1alpha2.OdooRestoreJob, now time.Time) *OperationReport {
	st := inst.Status
	op := func(kind odoov1alpha2.OperationKind, name, step string, started *metav1.Time, source string) *OperationReport {
		r := &OperationReport{Kind: string(kind), Name: name, Step: step, Started: started, Source: source}
		if started != nil && !started.IsZero() {
			r.Elapsed = humanDuration(now.Sub(started.Time))
		}
		return r
	}
	if o := st.Operation; o != nil {
		started := o.Started
		return op(o.Kind, o.Name, o.Step, &started, "status.operation")
	}
	if u := st.Upgrade; u != nil && (u.Phase == odoov1alpha2.UpgradeRunning || u.Phase == odoov1alpha2.UpgradePending) {
		return op(odoov1alpha2.OperationUpgrade, inst.Name, string(u.Step), u.StartTime, "status.upgrade")
	}
	if fs := st.Filestore; fs != nil && fs.Migration != nil && fs.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying {
		return op(odoov1alpha2.OperationFilestoreMigration, inst.Name, string(fs.Migration.Phase), fs.Migration.StartTime, "status.filestore.migration")
	}
	for _, r := range restores {
		if !r.Status.Phase.Finished() && r.DeletionTimestamp.IsZero() {
			return op(odoov1alpha2.OperationRestore, r.Name, string(r.Status.Step), startOf(r.Status.StartTime, r.CreationTimestamp), "OdooRestoreJob")
		}
	}
	for _, b := range backups {
		if b.Status.Phase == odoov1alpha2.JobRunning && b.DeletionTimestamp.IsZero() {
			return op(odoov1alpha2.OperationBackup, b.Name, string(b.Status.Phase), startOf(b.Status.StartTime, b.CreationTimestamp), "OdooBackupJob")
		}
	}
	return nil
}

func startOf(start *metav1.Time, created metav1.Time) *metav1.Time {
	if start != nil {
		return start
	}
	return &created
}

func upgradeReport(u *odoov1alpha2.UpgradeStatus) *UpgradeReport {
	if u == nil || (u.Phase != odoov1alpha2.UpgradeSuccess && u.Phase != odoov1alpha2.UpgradeFailed) {
		return nil
	}
	return &UpgradeReport{
		From: u.FromImage, To: u.ImageAttempted, Result: string(u.Phase),
		Duration: u.Duration, Trigger: u.Trigger, Message: u.Message,
	}
}

// humanDuration is kubectl's way of printing an age: 45s, 3m12s, 2h5m, 3d4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

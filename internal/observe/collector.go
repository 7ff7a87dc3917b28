package observe

import (
	"context"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Phases the one-hot phase gauge always reports, so that a query for one
// phase finds a 0 rather than nothing. The last four are the phases of
// issue 16's printer columns; listing them before they exist costs four
// zero series per instance. A phase not listed here is reported too.
var knownPhases = []string{
	string(odoov1alpha2.PhasePending), string(odoov1alpha2.PhaseInitializing), string(odoov1alpha2.PhaseRunning),
	string(odoov1alpha2.PhaseUpgrading), string(odoov1alpha2.PhaseDegraded), string(odoov1alpha2.PhaseStopped),
	string(odoov1alpha2.PhaseFailed), "Restoring", "Migrating", "RollingBack",
}

// Upgrade results of the one-hot last-upgrade gauge.
var upgradeResults = []string{
	string(odoov1alpha2.UpgradePending), string(odoov1alpha2.UpgradeRunning),
	string(odoov1alpha2.UpgradeSuccess), string(odoov1alpha2.UpgradeFailed),
}

// databaseUnreachableReasons are the DatabaseReady reasons that mean the
// operator could not talk to PostgreSQL at all (as opposed to a database it
// reached but found wrong, which Degraded/Stalled already report).
var databaseUnreachableReasons = map[string]bool{
	odoov1alpha2.ReasonDatabaseUnreachable:          true,
	odoov1alpha2.ReasonDatabaseAuthenticationFailed: true,
}

var ikeys = []string{"namespace", "name"}

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, ikeys...), extra...), nil)
}

var (
	descPhase = desc("odoo_operator_instance_phase",
		"1 for the instance's current status.phase, 0 for the other phases.", "phase")
	descReady = desc("odoo_operator_instance_ready",
		"1 when the instance's Ready condition is True.")
	descReadyReplicas = desc("odoo_operator_instance_ready_replicas",
		"Ready web pods (status.readyReplicas).")
	descDesiredReplicas = desc("odoo_operator_instance_desired_replicas",
		"Web replicas the spec asks for.")
	descCreated = desc("odoo_operator_instance_created_timestamp_seconds",
		"When the instance was created (unix seconds); the backup alert's start for an instance never backed up.")
	descOperation = desc("odoo_operator_instance_operation",
		"1 while an operation holds the instance's database (status.operation, or the upgrade, restore or migration in flight); absent otherwise.", "kind", "step")
	descOperationStarted = desc("odoo_operator_instance_operation_started_timestamp_seconds",
		"When the operation in progress started (unix seconds); absent when none runs.", "kind")
	descDatabaseReachable = desc("odoo_operator_instance_database_reachable",
		"0 when the DatabaseReady condition says PostgreSQL did not answer or refused the operator's login, 1 otherwise; absent before the first check.")
	descDatabaseReady = desc("odoo_operator_instance_database_ready",
		"1 when the DatabaseReady condition is True.")
	descHealthErrors = desc("odoo_operator_instance_health_errors",
		"Errors in the sampled Odoo logs within the sampling window, by category (status.health).", "category")
	descHealthy = desc("odoo_operator_instance_healthy",
		"1 when the Healthy condition is True, 0 when False; absent while log monitoring has no sample.")
	descRolledBack = desc("odoo_operator_instance_rolled_back",
		"1 while an automatic rollback holds the previous image (RolledBack condition True).")
	descLastRollback = desc("odoo_operator_instance_last_rollback_timestamp_seconds",
		"When the automatic rollback in force happened (unix seconds), by reason.", "reason")
	descUpgradeResult = desc("odoo_operator_instance_upgrade_last_result",
		"1 for the phase of the instance's last module upgrade (status.upgrade.phase), 0 for the others; absent before the first upgrade.", "result")
	descUpgradeCompleted = desc("odoo_operator_instance_upgrade_last_completion_timestamp_seconds",
		"When the last module upgrade ended (unix seconds).")
	descUpgradeDuration = desc("odoo_operator_instance_upgrade_last_duration_seconds",
		"How long the last finished module upgrade took.")
	descBackupScheduled = desc("odoo_operator_instance_backup_scheduled",
		"1 when spec.backup.schedule is set.")
	descLastBackup = desc("odoo_operator_instance_last_backup_success_timestamp_seconds",
		"Completion time of the newest completed OdooBackupJob of the instance (restore points excluded), or status.lastBackup.")
	descLastBackupSize = desc("odoo_operator_instance_last_backup_size_bytes",
		"Archive size of the newest completed OdooBackupJob of the instance (restore points excluded).")
	descBackupJobs = desc("odoo_operator_instance_backup_jobs",
		"OdooBackupJobs of the instance by phase.", "phase")
	descRestoreJobs = desc("odoo_operator_instance_restore_jobs",
		"OdooRestoreJobs of the instance by phase.", "phase")
	descScrapeErrors = prometheus.NewDesc("odoo_operator_collector_errors",
		"1 when the last scrape could not list the operator's objects from the cache (see the operator log).", []string{"kind"}, nil)
)

var jobPhases = []odoov1alpha2.JobPhase{odoov1alpha2.JobPending, odoov1alpha2.JobRunning, odoov1alpha2.JobCompleted, odoov1alpha2.JobFailed}

// Collector reports per-instance metrics read from the informer cache at
// scrape time: no controller has to remember to update a gauge, and a
// deleted instance's series disappear with it.
type Collector struct {
	// Reader lists OdooInstances, OdooBackupJobs and OdooRestoreJobs: the
	// manager's cache in the operator, any client in tests.
	Reader client.Reader
	// Timeout bounds one scrape's reads (default 5s: the cache answers at
	// once once synced; before that a scrape must not hang).
	Timeout time.Duration
	// Log reports failed reads.
	Log logr.Logger
}

var _ prometheus.Collector = (*Collector)(nil)

// Describe sends every metric description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descPhase, descReady, descReadyReplicas, descDesiredReplicas, descCreated, descOperation, descOperationStarted,
		descDatabaseReachable, descDatabaseReady, descHealthErrors, descHealthy, descRolledBack, descLastRollback,
		descUpgradeResult, descUpgradeCompleted, descUpgradeDuration, descBackupScheduled, descLastBackup,
		descLastBackupSize, descBackupJobs, descRestoreJobs, descScrapeErrors,
	} {
		ch <- d
	}
}

// Collect lists the objects and sends one set of samples per instance.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var instances odoov1alpha2.OdooInstanceList
	var backups odoov1alpha2.OdooBackupJobList
	var restores odoov1alpha2.OdooRestoreJobList
	failed := func(kind string, err error) bool {
		v := 0.0
		if err != nil {
			c.Log.Error(err, "metrics: listing from the cache failed", "kind", kind)
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, v, kind)
		return err != nil
	}
	if failed("OdooInstance", c.Reader.List(ctx, &instances)) {
		return
	}
	failed("OdooBackupJob", c.Reader.List(ctx, &backups))
	failed("OdooRestoreJob", c.Reader.List(ctx, &restores))

	byInstance := groupJobs(backups.Items, restores.Items)
	for i := range instances.Items {
		inst := &instances.Items[i]
		for _, s := range instanceSamples(inst, byInstance[key(inst.Namespace, inst.Name)]) {
			ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, s.value, s.labels...)
		}
	}
}

// sample is one gauge value; labels are the desc's label values in order.
type sample struct {
	desc   *prometheus.Desc
	value  float64
	labels []string
}

// instanceJobs are the OdooBackupJobs and OdooRestoreJobs of one instance.
type instanceJobs struct {
	backups  []*odoov1alpha2.OdooBackupJob
	restores []*odoov1alpha2.OdooRestoreJob
}

func key(namespace, name string) string { return namespace + "/" + name }

func groupJobs(backups []odoov1alpha2.OdooBackupJob, restores []odoov1alpha2.OdooRestoreJob) map[string]*instanceJobs {
	m := map[string]*instanceJobs{}
	get := func(k string) *instanceJobs {
		if m[k] == nil {
			m[k] = &instanceJobs{}
		}
		return m[k]
	}
	for i := range backups {
		b := &backups[i]
		j := get(key(b.Namespace, b.Spec.OdooInstanceRef.Name))
		j.backups = append(j.backups, b)
	}
	for i := range restores {
		r := &restores[i]
		j := get(key(r.Namespace, r.Spec.OdooInstanceRef.Name))
		j.restores = append(j.restores, r)
	}
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// instanceSamples is the pure heart of the collector: an instance and its
// jobs in, the gauge values out.
func instanceSamples(inst *odoov1alpha2.OdooInstance, jobs *instanceJobs) []sample {
	if jobs == nil {
		jobs = &instanceJobs{}
	}
	ns, name := inst.Namespace, inst.Name
	var out []sample
	add := func(d *prometheus.Desc, v float64, extra ...string) {
		out = append(out, sample{desc: d, value: v, labels: append([]string{ns, name}, extra...)})
	}
	st := &inst.Status

	phase := string(st.Phase)
	seen := false
	for _, p := range knownPhases {
		add(descPhase, b2f(p == phase), p)
		seen = seen || p == phase
	}
	if !seen && phase != "" {
		add(descPhase, 1, phase)
	}
	conds := st.Conditions
	add(descReady, b2f(apimeta.IsStatusConditionTrue(conds, odoov1alpha2.ConditionReady)))
	add(descReadyReplicas, float64(st.ReadyReplicas))
	add(descDesiredReplicas, float64(inst.WebReplicas()))
	add(descCreated, unix(inst.CreationTimestamp.Time))

	if op, ok := currentOperation(inst, jobs); ok {
		add(descOperation, 1, op.kind, op.step)
		if !op.started.IsZero() {
			add(descOperationStarted, unix(op.started), op.kind)
		}
	}

	if c := apimeta.FindStatusCondition(conds, odoov1alpha2.ConditionDatabaseReady); c != nil {
		add(descDatabaseReady, b2f(c.Status == "True"))
		add(descDatabaseReachable, b2f(c.Status != "False" || !databaseUnreachableReasons[c.Reason]))
	}

	if st.Health != nil {
		for cat, n := range healthByCategory(st.Health) {
			add(descHealthErrors, n, cat)
		}
	}
	if c := apimeta.FindStatusCondition(conds, odoov1alpha2.ConditionHealthy); c != nil && c.Status != "Unknown" {
		add(descHealthy, b2f(c.Status == "True"))
	}

	add(descRolledBack, b2f(apimeta.IsStatusConditionTrue(conds, odoov1alpha2.ConditionRolledBack)))
	if rb := st.Deployment.Rollback; rb != nil && rb.Time != nil {
		add(descLastRollback, unix(rb.Time.Time), rb.Reason)
	}

	if u := st.Upgrade; u != nil && u.Phase != "" {
		for _, r := range upgradeResults {
			add(descUpgradeResult, b2f(string(u.Phase) == r), r)
		}
		if u.CompletionTime != nil {
			add(descUpgradeCompleted, unix(u.CompletionTime.Time))
			if u.StartTime != nil {
				add(descUpgradeDuration, u.CompletionTime.Sub(u.StartTime.Time).Seconds())
			}
		}
	}

	add(descBackupScheduled, b2f(inst.Spec.Backup.Schedule != ""))
	if t, size, ok := lastBackup(jobs.backups); ok {
		add(descLastBackup, unix(t))
		if size >= 0 {
			add(descLastBackupSize, float64(size))
		}
	} else if st.LastBackup != nil && !fromRestorePoint(st.LastBackup, jobs.backups) {
		add(descLastBackup, unix(st.LastBackup.Time))
	}
	if len(jobs.backups) > 0 {
		counts := map[odoov1alpha2.JobPhase]int{}
		for _, b := range jobs.backups {
			counts[phaseOr(b.Status.Phase)]++
		}
		for _, p := range jobPhases {
			add(descBackupJobs, float64(counts[p]), string(p))
		}
	}
	if len(jobs.restores) > 0 {
		counts := map[odoov1alpha2.JobPhase]int{}
		for _, r := range jobs.restores {
			counts[phaseOr(r.Status.Phase)]++
		}
		for _, p := range jobPhases {
			add(descRestoreJobs, float64(counts[p]), string(p))
		}
	}
	return out
}

func phaseOr(p odoov1alpha2.JobPhase) odoov1alpha2.JobPhase {
	if p == "" {
		return odoov1alpha2.JobPending
	}
	return p
}

// healthByCategory sums status.health.errors' counts by category. The
// categories come from the operator's own classifier (a small fixed set);
// an error without one counts as "Other".
func healthByCategory(h *odoov1alpha2.HealthStatus) map[string]float64 {
	m := map[string]float64{}
	for _, e := range h.Errors {
		cat := e.Category
		if cat == "" {
			cat = "Other"
		}
		n := e.Count
		if n <= 0 {
			n = 1
		}
		m[cat] += float64(n)
	}
	return m
}

// lastBackup is the newest completed backup that is not an upgrade's restore
// point (restore points are not the backups a schedule promises). size is -1
// when the status has none.
func lastBackup(backups []*odoov1alpha2.OdooBackupJob) (time.Time, int64, bool) {
	var best *odoov1alpha2.OdooBackupJob
	for _, b := range backups {
		if b.Status.Phase != odoov1alpha2.JobCompleted || b.Status.CompletionTime == nil || b.Labels[resources.LabelRestorePoint] == "true" {
			continue
		}
		if best == nil || b.Status.CompletionTime.After(best.Status.CompletionTime.Time) {
			best = b
		}
	}
	if best == nil {
		return time.Time{}, 0, false
	}
	size, err := strconv.ParseInt(best.Status.BackupSize, 10, 64)
	if err != nil {
		size = -1
	}
	return best.Status.CompletionTime.Time, size, true
}

// fromRestorePoint is true when status.lastBackup is the completion of an
// upgrade's restore point (the backup controller records those too): the
// fallback must not let a restore point silence the missing-backup alert.
func fromRestorePoint(last *metav1.Time, backups []*odoov1alpha2.OdooBackupJob) bool {
	for _, b := range backups {
		if b.Labels[resources.LabelRestorePoint] == "true" && b.Status.CompletionTime != nil && b.Status.CompletionTime.Equal(last) {
			return true
		}
	}
	return false
}

// operation is the operation in progress on an instance.
type operation struct {
	kind, step string
	started    time.Time
}

// currentOperation reads status.operation, the database lock record. While
// that record is not written by every operation, it falls back to what the
// other status fields say is in flight: an upgrade, a filestore migration,
// a running restore or backup, the database's initialisation.
func currentOperation(inst *odoov1alpha2.OdooInstance, jobs *instanceJobs) (operation, bool) {
	st := &inst.Status
	if op := st.Operation; op != nil && op.Kind != "" {
		return operation{kind: string(op.Kind), step: op.Step, started: op.Started.Time}, true
	}
	if u := st.Upgrade; u != nil && (u.Phase == odoov1alpha2.UpgradeRunning || u.Phase == odoov1alpha2.UpgradePending) {
		return operation{kind: string(odoov1alpha2.OperationUpgrade), step: string(u.Step), started: timeOf(u.StartTime)}, true
	}
	if f := st.Filestore; f != nil && f.Migration != nil && f.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying {
		return operation{kind: string(odoov1alpha2.OperationFilestoreMigration), step: "Copying", started: timeOf(f.Migration.StartTime)}, true
	}
	for _, r := range jobs.restores {
		if r.Status.Phase == odoov1alpha2.JobRunning {
			return operation{kind: string(odoov1alpha2.OperationRestore), step: string(r.Status.Step), started: timeOf(r.Status.StartTime)}, true
		}
	}
	for _, b := range jobs.backups {
		if b.Status.Phase == odoov1alpha2.JobRunning {
			return operation{kind: string(odoov1alpha2.OperationBackup), step: string(b.Status.Phase), started: timeOf(b.Status.StartTime)}, true
		}
	}
	if c := apimeta.FindStatusCondition(st.Conditions, odoov1alpha2.ConditionDatabaseReady); c != nil && c.Reason == odoov1alpha2.ReasonInitializing {
		return operation{kind: string(odoov1alpha2.OperationInit), step: "Init", started: c.LastTransitionTime.Time}, true
	}
	return operation{}, false
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

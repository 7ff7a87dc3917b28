package upgrade_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// A simulated world: the instance's spec, the status as the API server
// stores it, the web and cron Deployments, the Jobs and the database. The
// operator is Decide → Apply (stored) → carry out the action → Serve, with no
// memory of its own between reconciles: everything it knows comes from the
// stored status and the world, as after a restart.

const (
	kindUpgrade = "upgrade"
	// kindRestorePoint is the restore point OdooBackupJob with its Job.
	kindRestorePoint = "restorepoint-backup"
	kindRestore      = "restore"
	simReplicas      = 2
	brokenLog        = "module sale_stock: KeyError: 'picking_type_id'"
)

// jobTicks is how many ticks a Job runs: long enough to be seen running.
var jobTicks = map[string]int{kindUpgrade: 3, kindRestorePoint: 2, kindRestore: 2}

type simJob struct {
	kind  string
	image string // the upgrade Job's image
	file  string // the backup a restore Job reads
	state upgrade.JobState
	left  int
}

type tier struct {
	image    string // the Deployment's template
	stopped  bool   // scaled to 0
	pods     int
	podImage string
}

func (t tier) converged() bool {
	if t.stopped {
		return t.pods == 0
	}
	return t.pods == simReplicas && t.podImage == t.image
}

type world struct {
	round int
	now   time.Time

	specImage, specCron string
	autoUpgrade         bool
	maintenance         bool
	beforeUpgrade       bool
	onFailure           odoov1alpha2.UpgradeFailurePolicy
	upgradeNow          string

	// stored is status.upgrade as the API server holds it.
	stored []byte

	web, cron tier

	jobs      map[string]*simJob
	creates   map[string]int
	snapshots map[string]bool
	swapped   map[string]bool
	swaps     int

	// db is what the live database holds: the image its modules were last
	// upgraded with.
	db string
	// backups is what each restore point OdooBackupJob stored.
	backups  map[string]string
	restored map[string]string
	kept     []string

	// broken images fail `odoo -u all` half-way.
	broken map[string]bool
	// backupFails makes every backup Job fail.
	backupFails bool
	// deleted are the OdooBackupJobs the operator deleted.
	deleted []string

	steps      []odoov1alpha2.UpgradeStep
	trace      []string
	violations []string
}

// newWorld is an initialised instance serving A with A in its spec.
func newWorld() *world {
	return &world{
		now:       t0.Time,
		specImage: imgA, specCron: cronA,
		autoUpgrade: true, maintenance: true, beforeUpgrade: true,
		onFailure: odoov1alpha2.UpgradeFailureKeepOldImage,
		web:       tier{image: imgA, pods: simReplicas, podImage: imgA},
		cron:      tier{image: cronA, pods: simReplicas, podImage: cronA},
		jobs:      map[string]*simJob{}, creates: map[string]int{},
		snapshots: map[string]bool{}, swapped: map[string]bool{},
		db: imgA, backups: map[string]string{}, restored: map[string]string{},
		broken: map[string]bool{},
	}
}

// Deterministic names, derived from the status as the controller does.
func simHash(st *odoov1alpha2.UpgradeStatus) string {
	start := ""
	if st.StartTime != nil {
		start = strconv.FormatInt(st.StartTime.Unix(), 10)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{st.ImageAttempted, st.CronImageAttempted, st.Trigger, st.Request, start}, "\x00")))
	return hex.EncodeToString(sum[:])[:10]
}

func upgradeJobName(st *odoov1alpha2.UpgradeStatus) string { return "shop-upgrade-" + simHash(st) }
func restorePointBackupName(st *odoov1alpha2.UpgradeStatus) string {
	return "shop-pre-upgrade-" + simHash(st)
}
func restoreJobName(st *odoov1alpha2.UpgradeStatus) string { return "shop-restore-" + simHash(st) }
func snapshotName(st *odoov1alpha2.UpgradeStatus) string   { return "shop-modules-" + simHash(st) }

func (w *world) setSpec(image, cron string) { w.specImage, w.specCron = image, cron }

func (w *world) status() *odoov1alpha2.UpgradeStatus {
	if w.stored == nil {
		return nil
	}
	st := &odoov1alpha2.UpgradeStatus{}
	if err := json.Unmarshal(w.stored, st); err != nil {
		panic(err)
	}
	return st
}

func (w *world) store(st *odoov1alpha2.UpgradeStatus, a upgrade.Action) {
	last := w.status()
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	w.stored = b
	if a.Kind == upgrade.Start || last == nil || last.Step != st.Step {
		w.steps = append(w.steps, st.Step)
	}
}

func (w *world) jobState(name string) upgrade.JobState {
	j, ok := w.jobs[name]
	if !ok {
		return upgrade.JobAbsent
	}
	return j.state
}

// observe reads what the stored step needs, like the controller.
func (w *world) observe(st *odoov1alpha2.UpgradeStatus) upgrade.Observed {
	o := upgrade.Observed{
		Initialized: true,
		SpecImage:   w.specImage, SpecCronImage: w.specCron,
		RunningImage: w.web.image, RunningCronImage: w.cron.image,
		AutoUpgrade: w.autoUpgrade, MaintenanceMode: w.maintenance, BeforeUpgrade: w.beforeUpgrade,
		OnFailure:  w.onFailure,
		UpgradeNow: w.upgradeNow,
	}
	if !upgrade.InFlight(st) {
		return o
	}
	switch st.Step {
	case odoov1alpha2.UpgradeStepSnapshot:
		o.SnapshotTaken = w.snapshots[snapshotName(st)]
	case odoov1alpha2.UpgradeStepStopCron:
		o.CronStopped = w.cron.pods == 0
	case odoov1alpha2.UpgradeStepRestorePoint:
		o.RestorePoint = w.jobState(st.RestorePointBackup)
	case odoov1alpha2.UpgradeStepUpgrade:
		o.UpgradeJob = w.jobState(st.JobName)
	case odoov1alpha2.UpgradeStepVerify:
		switch w.jobState(st.JobName) {
		case upgrade.JobSucceeded:
			o.Verdict = &upgrade.Verdict{OK: true, Message: "all modules upgraded with " + st.ImageAttempted}
		case upgrade.JobFailed:
			o.Verdict = &upgrade.Verdict{Message: brokenLog + "; already committed: base, web"}
		}
	case odoov1alpha2.UpgradeStepRollout:
		o.WebRolledOut = w.web.image == st.ImageAttempted && w.web.podImage == st.ImageAttempted && w.web.converged()
	case odoov1alpha2.UpgradeStepRestore:
		o.WebStopped = w.web.pods == 0 && w.cron.pods == 0
		o.RestoreJob = w.jobState(restoreJobName(st))
		o.Swapped = w.swapped[restoreJobName(st)]
	}
	return o
}

type crashAt int

const (
	noCrash crashAt = iota
	// crashAfterStatus: the status is stored, the action not carried out.
	crashAfterStatus
	// crashAfterAction: the action is carried out, the Deployments not updated.
	crashAfterAction
)

// reconcile is one pass of the operator.
func (w *world) reconcile(crash crashAt) {
	w.round++
	st := w.status()
	o := w.observe(st)
	a := upgrade.Decide(st, o)
	w.trace = append(w.trace, fmt.Sprintf("round %d: %s → %s %s", w.round, stepName(st), a.Kind, a.Step))
	if statusChanging(a.Kind) {
		next := upgrade.Apply(st, a, o, metav1.NewTime(w.now))
		if a.Kind == upgrade.Start {
			// Filled in by the controller: both depend on the instance.
			next.JobName = upgradeJobName(next)
			if w.beforeUpgrade {
				next.RestorePointBackup = restorePointBackupName(next)
			}
		}
		w.store(next, a)
		st = w.status()
	}
	if crash == crashAfterStatus {
		return
	}
	w.carryOut(st, a)
	if crash == crashAfterAction {
		return
	}
	srv := upgrade.Serve(st, o)
	w.web.image, w.web.stopped = srv.WebImage, srv.StopWeb
	w.cron.image, w.cron.stopped = srv.CronImage, srv.StopCron
}

func stepName(st *odoov1alpha2.UpgradeStatus) string {
	if st == nil {
		return "-"
	}
	return string(st.Step)
}

// create is create-only: an existing name is left alone, like the real Jobs.
func (w *world) create(name string, j *simJob) {
	if _, ok := w.jobs[name]; ok {
		return
	}
	j.state, j.left = upgrade.JobRunning, jobTicks[j.kind]
	w.jobs[name] = j
	w.creates[name]++
}

func (w *world) carryOut(st *odoov1alpha2.UpgradeStatus, a upgrade.Action) {
	switch a.Kind {
	case upgrade.TakeSnapshot:
		w.snapshots[snapshotName(st)] = true
	case upgrade.CreateRestorePointBackup:
		w.create(st.RestorePointBackup, &simJob{kind: kindRestorePoint})
	case upgrade.CreateUpgradeJob:
		w.create(st.JobName, &simJob{kind: kindUpgrade, image: st.ImageAttempted})
	case upgrade.CreateRestoreJob:
		w.create(restoreJobName(st), &simJob{kind: kindRestore, file: st.RestorePointBackup})
	case upgrade.Cancel:
		// An unfinished restore point backup is deleted (its pg_dump's locks
		// would hold up the next upgrade).
		if j, ok := w.jobs[st.RestorePointBackup]; ok && j.state == upgrade.JobRunning {
			delete(w.jobs, st.RestorePointBackup)
			w.deleted = append(w.deleted, st.RestorePointBackup)
		}
	case upgrade.Swap:
		name := restoreJobName(st)
		if content, ok := w.restored[name]; ok && !w.swapped[name] {
			w.kept = append(w.kept, w.db)
			w.db = content
			w.swapped[name] = true
			w.swaps++
		}
	}
}

func (w *world) jobNames() []string {
	names := make([]string, 0, len(w.jobs))
	for n := range w.jobs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (w *world) jobsOfKind(kind string) []string {
	var names []string
	for _, n := range w.jobNames() {
		if w.jobs[n].kind == kind {
			names = append(names, n)
		}
	}
	return names
}

func (w *world) runningJobs(kinds ...string) []string {
	var names []string
	for _, n := range w.jobNames() {
		if j := w.jobs[n]; j.state == upgrade.JobRunning && slices.Contains(kinds, j.kind) {
			names = append(names, n)
		}
	}
	return names
}

// instance is the OdooInstance as the OdooBackupJob controller reads it.
func (w *world) instance() *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{Status: odoov1alpha2.OdooInstanceStatus{
		Database: &odoov1alpha2.DatabaseStatus{Name: "shop", Initialized: true},
		Upgrade:  w.status(),
	}}
}

// tick lets time pass: Jobs progress, pods follow their Deployments.
func (w *world) tick() {
	w.now = w.now.Add(time.Minute)
	for _, name := range w.jobNames() {
		j := w.jobs[name]
		if j.state != upgrade.JobRunning {
			continue
		}
		if j.kind == kindRestorePoint && !operation.Check(w.instance(), odoov1alpha2.OperationBackup, name).Go() {
			// The OdooBackupJob controller's own rule: it waits, no Job yet.
			continue
		}
		if j.left--; j.left > 0 {
			continue
		}
		switch j.kind {
		case kindUpgrade:
			if w.broken[j.image] {
				j.state, w.db = upgrade.JobFailed, "half-upgraded to "+j.image
			} else {
				j.state, w.db = upgrade.JobSucceeded, j.image
			}
		case kindRestorePoint:
			if w.backupFails {
				j.state = upgrade.JobFailed
			} else {
				w.backups[name], j.state = w.db, upgrade.JobSucceeded
			}
		case kindRestore:
			if content, ok := w.backups[j.file]; ok {
				w.restored[name], j.state = content, upgrade.JobSucceeded
			} else {
				j.state = upgrade.JobFailed
			}
		}
	}
	for _, t := range []*tier{&w.web, &w.cron} {
		if t.stopped {
			t.pods = 0
		} else {
			t.pods, t.podImage = simReplicas, t.image
		}
	}
	w.check()
}

// check records the invariants broken at this moment.
func (w *world) check() {
	st := w.status()
	violate := func(format string, args ...any) {
		w.violations = append(w.violations, fmt.Sprintf("round %d (%s): ", w.round, stepName(st))+fmt.Sprintf(format, args...))
	}
	upgrades := w.runningJobs(kindUpgrade)
	if w.maintenance && len(upgrades) > 0 && w.cron.pods > 0 {
		violate("cron runs %d pods while upgrade Job %v runs", w.cron.pods, upgrades)
	}
	if mutating := w.runningJobs(kindUpgrade, kindRestore); len(mutating) > 1 {
		violate("%d mutating Jobs run on the database at once: %v", len(mutating), mutating)
	}
	for _, name := range upgrades {
		if !upgrade.InFlight(st) || st.JobName != name {
			violate("upgrade Job %s runs but the stored upgrade is not its own in flight (job %s, phase %s)", name, st.JobName, st.Phase)
		}
	}
	if restores := w.runningJobs(kindRestore); len(restores) > 0 && (w.web.pods > 0 || w.cron.pods > 0) {
		violate("restore Job runs while web has %d and cron %d pods", w.web.pods, w.cron.pods)
	}
	if upgrade.InFlight(st) && st.Step != odoov1alpha2.UpgradeStepRollout && w.web.image != st.FromImage {
		violate("web runs %s before the upgrade to %s is proven good", w.web.image, st.ImageAttempted)
	}
}

// step is one round: a reconcile and a tick.
func (w *world) step() {
	w.reconcile(noCrash)
	w.check()
	w.tick()
}

func (w *world) settled() bool {
	st := w.status()
	if upgrade.InFlight(st) || len(w.runningJobs(kindUpgrade, kindRestorePoint, kindRestore)) > 0 {
		return false
	}
	o := w.observe(st)
	srv := upgrade.Serve(st, o)
	return upgrade.Decide(st, o).Kind == upgrade.None && w.web.converged() && w.cron.converged() &&
		srv.WebImage == w.web.image && srv.CronImage == w.cron.image &&
		srv.StopWeb == w.web.stopped && srv.StopCron == w.cron.stopped
}

// run reconciles until nothing is left to do.
func (w *world) run(t *testing.T) {
	t.Helper()
	for range 100 {
		if w.settled() {
			return
		}
		w.step()
	}
	t.Fatalf("the world does not settle:\n%s", strings.Join(w.trace, "\n"))
}

// runUntil reconciles until cond holds, reporting whether it did.
func (w *world) runUntil(cond func(*world) bool) bool {
	for range 100 {
		if cond(w) {
			return true
		}
		if w.settled() {
			return false
		}
		w.step()
	}
	return false
}

func (w *world) traceText() string { return strings.Join(w.trace, "\n") }

// expectServing checks the pods of web and cron.
func expectServing(g Gomega, w *world, web, cron string) {
	g.Expect(w.web).To(Equal(tier{image: web, pods: simReplicas, podImage: web}), "web")
	g.Expect(w.cron).To(Equal(tier{image: cron, pods: simReplicas, podImage: cron}), "cron")
}

// (a) An image change goes through every step to Success with one restore
// point Job and one upgrade Job.
func TestSimulateImageChangeSucceeds(t *testing.T) {
	all := []odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "RestorePoint", "Upgrade", "Verify", "Rollout", "Done"}
	without := func(skip ...odoov1alpha2.UpgradeStep) []odoov1alpha2.UpgradeStep {
		return slices.DeleteFunc(slices.Clone(all), func(s odoov1alpha2.UpgradeStep) bool { return slices.Contains(skip, s) })
	}
	for _, tc := range []struct {
		name                       string
		maintenance, beforeUpgrade bool
		web, cron                  string
		wantSteps                  []odoov1alpha2.UpgradeStep
	}{
		{"defaults", true, true, imgB, cronB, all},
		{"no maintenance mode", false, true, imgB, cronB, without("StopCron")},
		{"no restore point", true, false, imgB, cronB, without("RestorePoint")},
		{"neither", false, false, imgB, cronB, without("StopCron", "RestorePoint")},
		{"only the cron image changed", true, true, imgA, cronB, all},
		{"only the web image changed", true, true, imgB, cronA, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			w := newWorld()
			w.maintenance, w.beforeUpgrade = tc.maintenance, tc.beforeUpgrade
			cronStoppedSeen := false
			w.setSpec(tc.web, tc.cron)
			for range 100 {
				if w.settled() {
					break
				}
				w.step()
				cronStoppedSeen = cronStoppedSeen || w.cron.pods == 0
			}
			g.Expect(w.settled()).To(BeTrue(), w.traceText())

			st := w.status()
			g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess), st.Message)
			g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
			g.Expect(st.Failed).To(BeFalse())
			g.Expect(st.ImageCurrent).To(Equal(tc.web))
			g.Expect(st.FromImage).To(Equal(imgA))
			g.Expect(st.CompletionTime).NotTo(BeNil())
			g.Expect(w.steps).To(Equal(tc.wantSteps), w.traceText())

			g.Expect(w.jobsOfKind(kindUpgrade)).To(Equal([]string{st.JobName}))
			if tc.beforeUpgrade {
				g.Expect(st.RestorePointBackup).To(Equal(restorePointBackupName(st)), "status.upgrade names its restore point backup")
				g.Expect(w.jobsOfKind(kindRestorePoint)).To(Equal([]string{st.RestorePointBackup}))
				g.Expect(w.backups).To(Equal(map[string]string{st.RestorePointBackup: imgA}), "the restore point holds the database before the upgrade")
			} else {
				g.Expect(w.jobsOfKind(kindRestorePoint)).To(BeEmpty())
			}
			g.Expect(w.jobsOfKind(kindRestore)).To(BeEmpty())
			for name, n := range w.creates {
				g.Expect(n).To(Equal(1), name)
			}
			g.Expect(w.db).To(Equal(tc.web))
			g.Expect(cronStoppedSeen).To(Equal(tc.maintenance), "cron stops only for maintenance mode")
			expectServing(g, w, tc.web, tc.cron)
			g.Expect(w.violations).To(BeEmpty())

			// Nothing more happens.
			jobs := w.jobNames()
			for range 10 {
				w.step()
			}
			g.Expect(w.jobNames()).To(Equal(jobs))
			g.Expect(w.status()).To(Equal(st))
		})
	}
}

// autoUpgrade disabled: an image change rolls out without a Job; the
// annotation runs exactly one upgrade per value.
func TestSimulateAutoUpgradeDisabled(t *testing.T) {
	g := NewWithT(t)
	w := newWorld()
	w.autoUpgrade = false
	w.setSpec(imgB, cronB)
	w.run(t)
	g.Expect(w.jobs).To(BeEmpty())
	g.Expect(w.status()).To(BeNil())
	expectServing(g, w, imgB, cronB)

	w.upgradeNow = "2026-03-01T02:00"
	w.run(t)
	st := w.status()
	g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
	g.Expect(st.Trigger).To(Equal(upgrade.TriggerAnnotation))
	g.Expect(st.Request).To(Equal("2026-03-01T02:00"))
	g.Expect(w.jobsOfKind(kindUpgrade)).To(Equal([]string{st.JobName}))
	for range 10 {
		w.step()
	}
	g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(1), "the same annotation value never runs again")

	w.upgradeNow = "2026-03-02T02:00"
	w.run(t)
	g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(2))
	g.Expect(w.violations).To(BeEmpty())
	expectServing(g, w, imgB, cronB)
}

// (b) A failing upgrade Job: Failed, web on the old image throughout, cron
// back up, and the failed image is not retried until the spec changes or the
// annotation is bumped.
func TestSimulateFailedUpgrade(t *testing.T) {
	failed := func(t *testing.T) *world {
		g := NewWithT(t)
		w := newWorld()
		w.broken[imgB] = true
		w.setSpec(imgB, cronB)
		w.run(t)
		st := w.status()
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
		g.Expect(st.Failed).To(BeTrue())
		g.Expect(st.ImageAttempted).To(Equal(imgB))
		g.Expect(st.ImageCurrent).To(Equal(imgA))
		g.Expect(st.Message).To(ContainSubstring(brokenLog))
		g.Expect(w.steps).To(Equal([]odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "RestorePoint", "Upgrade", "Verify", "Done"}))
		g.Expect(w.jobsOfKind(kindUpgrade)).To(Equal([]string{st.JobName}))
		g.Expect(w.jobsOfKind(kindRestore)).To(BeEmpty(), "KeepOldImage does not restore")
		g.Expect(w.db).To(Equal("half-upgraded to " + imgB))
		expectServing(g, w, imgA, cronA)
		g.Expect(w.violations).To(BeEmpty(), w.traceText())

		// Not retried.
		jobs := w.jobNames()
		for range 20 {
			w.step()
		}
		g.Expect(w.jobNames()).To(Equal(jobs))
		g.Expect(w.status()).To(Equal(st))
		expectServing(g, w, imgA, cronA)
		return w
	}

	t.Run("annotation bumped after the image was fixed", func(t *testing.T) {
		g := NewWithT(t)
		w := failed(t)
		delete(w.broken, imgB)
		w.upgradeNow = "retry-1"
		w.run(t)
		st := w.status()
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
		g.Expect(st.Trigger).To(Equal(upgrade.TriggerAnnotation))
		g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(2))
		g.Expect(w.jobsOfKind(kindUpgrade)).To(ContainElement(st.JobName))
		g.Expect(w.db).To(Equal(imgB))
		expectServing(g, w, imgB, cronB)
		g.Expect(w.violations).To(BeEmpty())
	})
	t.Run("spec changed to a fixed image", func(t *testing.T) {
		g := NewWithT(t)
		w := failed(t)
		w.setSpec(imgC, cronC)
		w.run(t)
		st := w.status()
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
		g.Expect(st.FromImage).To(Equal(imgA))
		g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(2))
		g.Expect(w.db).To(Equal(imgC))
		expectServing(g, w, imgC, cronC)
		g.Expect(w.violations).To(BeEmpty())
	})
	t.Run("spec reverted to the old image", func(t *testing.T) {
		g := NewWithT(t)
		w := failed(t)
		w.setSpec(imgA, cronA)
		w.run(t)
		g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(1))
		expectServing(g, w, imgA, cronA)
	})
}

// (e) onFailure Restore: one restore Job, one swap, the database as it was
// before the upgrade, the half-upgraded one kept.
func TestSimulateRestore(t *testing.T) {
	g := NewWithT(t)
	w := newWorld()
	w.onFailure = odoov1alpha2.UpgradeFailureRestore
	w.broken[imgB] = true
	w.setSpec(imgB, cronB)
	w.run(t)

	st := w.status()
	g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
	g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
	g.Expect(st.Failed).To(BeTrue())
	g.Expect(st.Message).To(ContainSubstring(brokenLog))
	g.Expect(st.Message).To(ContainSubstring("restored the restore point backup " + st.RestorePointBackup))
	g.Expect(w.steps).To(Equal([]odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "RestorePoint", "Upgrade", "Verify", "Restore", "Done"}))
	g.Expect(w.jobsOfKind(kindRestorePoint)).To(HaveLen(1))
	g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(1))
	g.Expect(w.jobsOfKind(kindRestore)).To(Equal([]string{restoreJobName(st)}))
	g.Expect(w.swaps).To(Equal(1))
	g.Expect(w.db).To(Equal(imgA), "the restore point taken before the upgrade is live again")
	g.Expect(w.kept).To(Equal([]string{"half-upgraded to " + imgB}))
	expectServing(g, w, imgA, cronA)
	g.Expect(w.violations).To(BeEmpty(), w.traceText())

	// Not retried, not restored again.
	for range 10 {
		w.step()
	}
	g.Expect(w.swaps).To(Equal(1))
	g.Expect(w.jobsOfKind(kindRestore)).To(HaveLen(1))
	g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(1))
}

func TestSimulateRestoreWithoutRestorePoint(t *testing.T) {
	g := NewWithT(t)
	w := newWorld()
	w.onFailure, w.beforeUpgrade = odoov1alpha2.UpgradeFailureRestore, false
	w.broken[imgB] = true
	w.setSpec(imgB, cronB)
	w.run(t)
	st := w.status()
	g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
	g.Expect(w.jobsOfKind(kindRestorePoint)).To(BeEmpty())
	g.Expect(w.jobsOfKind(kindRestore)).To(BeEmpty())
	g.Expect(w.db).To(Equal("half-upgraded to " + imgB))
	expectServing(g, w, imgA, cronA)
	g.Expect(w.violations).To(BeEmpty())
}

// A restore point backup that fails fails the upgrade before its Job: the
// database is untouched, nothing is restored, the old image keeps serving.
func TestSimulateRestorePointBackupFails(t *testing.T) {
	g := NewWithT(t)
	w := newWorld()
	w.backupFails = true
	w.onFailure = odoov1alpha2.UpgradeFailureRestore
	w.setSpec(imgB, cronB)
	w.run(t)
	st := w.status()
	g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
	g.Expect(st.Message).To(ContainSubstring("the restore point backup " + st.RestorePointBackup + " failed; the database was not touched"))
	g.Expect(w.steps).To(Equal([]odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "RestorePoint", "Done"}))
	g.Expect(w.jobsOfKind(kindRestorePoint)).To(Equal([]string{st.RestorePointBackup}))
	g.Expect(w.jobsOfKind(kindUpgrade)).To(BeEmpty())
	g.Expect(w.jobsOfKind(kindRestore)).To(BeEmpty())
	g.Expect(w.db).To(Equal(imgA))
	expectServing(g, w, imgA, cronA)
	g.Expect(w.violations).To(BeEmpty(), w.traceText())
}

// spec.backup.beforeUpgrade switched off after Start, onFailure Restore: the
// failure must never load a restore point that was not taken.
func TestSimulateBeforeUpgradeSwitchedOffMidUpgrade(t *testing.T) {
	g := NewWithT(t)
	w := newWorld()
	w.onFailure = odoov1alpha2.UpgradeFailureRestore
	w.broken[imgB] = true
	w.setSpec(imgB, cronB)
	g.Expect(w.runUntil(func(w *world) bool { return stepName(w.status()) == "Snapshot" })).To(BeTrue())
	w.beforeUpgrade = false
	w.run(t)
	g.Expect(w.status().Phase).To(Equal(odoov1alpha2.UpgradeFailed))
	for _, name := range w.jobsOfKind(kindRestore) {
		g.Expect(w.backups).To(HaveKey(w.jobs[name].file), "restore Job %s loads a restore point that was never taken:\n%s", name, w.traceText())
	}
	expectServing(g, w, imgA, cronA)
}

// summary is the end state compared across restarts (no times: a restart
// takes longer).
type summary struct {
	Steps                 []odoov1alpha2.UpgradeStep
	Phase                 odoov1alpha2.UpgradePhase
	Failed                bool
	Trigger, Request      string
	From, Attempted       string
	Current, Message      string
	JobName, RestorePoint string
	Web, Cron             tier
	DB                    string
	Kept                  []string
	Jobs                  map[string]string
	Swaps                 int
}

func (w *world) summary() summary {
	st := w.status()
	jobs := map[string]string{}
	for n, j := range w.jobs {
		jobs[n] = fmt.Sprintf("%s %v", j.kind, j.state)
	}
	return summary{
		Steps: w.steps, Phase: st.Phase, Failed: st.Failed, Trigger: st.Trigger, Request: st.Request,
		From: st.FromImage, Attempted: st.ImageAttempted, Current: st.ImageCurrent, Message: st.Message,
		JobName: st.JobName, RestorePoint: st.RestorePointBackup,
		Web: w.web, Cron: w.cron, DB: w.db, Kept: w.kept, Jobs: jobs, Swaps: w.swaps,
	}
}

// (c) The operator stops at every round, after storing the status or after
// carrying out the action, and a new one carries on from the stored status
// and the world alone: same end state, each Job created once.
func TestSimulateRestartAtEveryStep(t *testing.T) {
	scenarios := []struct {
		name  string
		setup func(*world)
	}{
		{"success", func(w *world) { w.setSpec(imgB, cronB) }},
		{"success without maintenance mode or restore point", func(w *world) {
			w.maintenance, w.beforeUpgrade = false, false
			w.setSpec(imgB, cronB)
		}},
		{"failure, KeepOldImage", func(w *world) {
			w.broken[imgB] = true
			w.setSpec(imgB, cronB)
		}},
		{"failure, Restore", func(w *world) {
			w.broken[imgB] = true
			w.onFailure = odoov1alpha2.UpgradeFailureRestore
			w.setSpec(imgB, cronB)
		}},
		{"annotation", func(w *world) { w.upgradeNow = "now-1" }},
		{"restore point backup fails, Restore", func(w *world) {
			w.backupFails = true
			w.onFailure = odoov1alpha2.UpgradeFailureRestore
			w.setSpec(imgB, cronB)
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			clean := newWorld()
			sc.setup(clean)
			clean.run(t)
			want := clean.summary()
			rounds := clean.round
			NewWithT(t).Expect(clean.violations).To(BeEmpty())

			for k := range rounds {
				for _, crash := range []crashAt{crashAfterStatus, crashAfterAction} {
					t.Run(fmt.Sprintf("round %d crash %d", k+1, crash), func(t *testing.T) {
						g := NewWithT(t)
						w := newWorld()
						sc.setup(w)
						for range k {
							w.step()
						}
						w.reconcile(crash)
						// The operator is down for a while; the world goes on.
						w.tick()
						w.tick()
						// A new operator: nothing but the stored status and the world.
						w.run(t)
						got := w.summary()
						g.Expect(got).To(Equal(want), "after a crash at round %d:\n%s", k+1, w.traceText())
						for name, n := range w.creates {
							g.Expect(n).To(Equal(1), name)
						}
						g.Expect(w.violations).To(BeEmpty())
					})
				}
			}
		})
	}
}

// (d) The spec changes mid-upgrade, at each step: back to the serving image
// (cancel before the Job, fail after), or to a third image (the upgrade to
// it then runs).
func TestSimulateSpecChangedMidUpgrade(t *testing.T) {
	stepIs := func(s odoov1alpha2.UpgradeStep) func(*world) bool {
		return func(w *world) bool { return stepName(w.status()) == string(s) }
	}
	points := []struct {
		name string
		at   func(*world) bool
		// touched: the upgrade Job ran (or runs) on the database.
		touched bool
	}{
		{"Snapshot", stepIs(odoov1alpha2.UpgradeStepSnapshot), false},
		{"StopCron", stepIs(odoov1alpha2.UpgradeStepStopCron), false},
		{"RestorePoint, backup running", func(w *world) bool {
			return stepIs(odoov1alpha2.UpgradeStepRestorePoint)(w) && len(w.runningJobs(kindRestorePoint)) == 1
		}, false},
		{"Upgrade, before the Job", func(w *world) bool {
			return stepIs(odoov1alpha2.UpgradeStepUpgrade)(w) && len(w.jobsOfKind(kindUpgrade)) == 0
		}, false},
		{"Upgrade, Job running", func(w *world) bool {
			return stepIs(odoov1alpha2.UpgradeStepUpgrade)(w) && len(w.runningJobs(kindUpgrade)) == 1
		}, true},
		{"Verify", stepIs(odoov1alpha2.UpgradeStepVerify), true},
		{"Rollout", stepIs(odoov1alpha2.UpgradeStepRollout), true},
	}
	for _, p := range points {
		t.Run("reverted at "+p.name, func(t *testing.T) {
			g := NewWithT(t)
			w := newWorld()
			w.setSpec(imgB, cronB)
			g.Expect(w.runUntil(p.at)).To(BeTrue(), w.traceText())
			w.setSpec(imgA, cronA)
			w.run(t)

			st := w.status()
			g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
			g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
			g.Expect(st.ImageCurrent).To(Equal(imgA))
			if p.touched {
				g.Expect(st.Failed).To(BeTrue())
				g.Expect(w.jobsOfKind(kindUpgrade)).To(HaveLen(1))
				g.Expect(w.db).To(Equal(imgB), "KeepOldImage: the database as the upgrade left it")
			} else {
				g.Expect(st.Failed).To(BeFalse(), "cancelled, not failed: %s", st.Message)
				g.Expect(st.Message).To(ContainSubstring("cancelled"))
				g.Expect(w.jobsOfKind(kindUpgrade)).To(BeEmpty())
				g.Expect(w.db).To(Equal(imgA))
			}
			if strings.HasPrefix(p.name, "RestorePoint") {
				g.Expect(w.deleted).To(Equal([]string{st.RestorePointBackup}), "the unfinished restore point backup is deleted")
			} else {
				g.Expect(w.deleted).To(BeEmpty(), "a finished restore point backup is kept")
			}
			expectServing(g, w, imgA, cronA)
			g.Expect(w.violations).To(BeEmpty(), w.traceText())

			jobs := w.jobNames()
			for range 10 {
				w.step()
			}
			g.Expect(w.jobNames()).To(Equal(jobs), "nothing runs after the revert")
		})

		t.Run("reverted with onFailure Restore at "+p.name, func(t *testing.T) {
			g := NewWithT(t)
			w := newWorld()
			w.onFailure = odoov1alpha2.UpgradeFailureRestore
			w.setSpec(imgB, cronB)
			g.Expect(w.runUntil(p.at)).To(BeTrue(), w.traceText())
			w.setSpec(imgA, cronA)
			w.run(t)
			if p.touched {
				g.Expect(w.jobsOfKind(kindRestore)).To(HaveLen(1))
				g.Expect(w.db).To(Equal(imgA), "the restore point is live again")
			} else {
				g.Expect(w.jobsOfKind(kindRestore)).To(BeEmpty(), "the database was not touched: nothing to restore, no write to lose")
				g.Expect(w.db).To(Equal(imgA))
				g.Expect(w.kept).To(BeEmpty())
			}
			expectServing(g, w, imgA, cronA)
			g.Expect(w.violations).To(BeEmpty(), w.traceText())
		})

		t.Run("third image at "+p.name, func(t *testing.T) {
			g := NewWithT(t)
			w := newWorld()
			w.setSpec(imgB, cronB)
			g.Expect(w.runUntil(p.at)).To(BeTrue(), w.traceText())
			w.setSpec(imgC, cronC)
			w.run(t)

			st := w.status()
			g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess), st.Message)
			g.Expect(st.ImageAttempted).To(Equal(imgC))
			g.Expect(st.ImageCurrent).To(Equal(imgC))
			var toB, toC int
			for _, n := range w.jobsOfKind(kindUpgrade) {
				switch w.jobs[n].image {
				case imgB:
					toB++
				case imgC:
					toC++
				}
			}
			g.Expect(toC).To(Equal(1))
			if p.touched {
				g.Expect(toB).To(Equal(1))
			} else {
				g.Expect(toB).To(BeZero())
			}
			g.Expect(w.db).To(Equal(imgC))
			expectServing(g, w, imgC, cronC)
			g.Expect(w.violations).To(BeEmpty(), w.traceText())
		})
	}
}

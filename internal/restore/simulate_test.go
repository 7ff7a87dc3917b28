package restore_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/restore"
)

// A simulated world: the databases on the cluster with what they hold, the
// Jobs, the instance's web and cron (which write to the live database while
// they run) and the restore's status as the API server stores it. The
// operator is observe → Decide → Apply/act, with no memory between
// reconciles, and stops at random points: before a status is stored, after
// it is stored and before the step acts, after an act and before the status
// recording it.

const (
	live   = "shop"
	target = "shop_restore_1"
	kept   = "shop_pre_restore_1"
	backup = "backup"
)

type job struct {
	state datajob.Outcome
	left  int
	fails bool
}

type world struct {
	rnd   *rand.Rand
	round int
	now   time.Time

	stored []byte

	// dbs maps a database name to what it holds.
	dbs         map[string]string
	neutralized map[string]bool
	jobs        map[string]*job
	creates     map[string]int

	hold     bool
	pods     int
	writes   int
	instance bool

	neutralize, keepPrevious bool
	// catcher: the target is Staging and the administrator set a mail
	// catcher; mailRouted: the neutralized copy's mail server points at it.
	catcher, mailRouted bool
	corrupt             bool
	failJobs            bool

	trace      []string
	violations []string
}

func newWorld(seed uint64) *world {
	w := &world{
		rnd: rand.New(rand.NewPCG(seed, 7)), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		dbs: map[string]string{live: "live-0"}, neutralized: map[string]bool{},
		jobs: map[string]*job{}, creates: map[string]int{}, pods: 2, instance: true,
	}
	w.store(odoov1alpha2.OdooRestoreJobStatus{})
	return w
}

func (w *world) status() odoov1alpha2.OdooRestoreJobStatus {
	var st odoov1alpha2.OdooRestoreJobStatus
	if err := json.Unmarshal(w.stored, &st); err != nil {
		panic(err)
	}
	return st
}

func (w *world) store(st odoov1alpha2.OdooRestoreJobStatus) {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	w.stored = b
}

func (w *world) violate(format string, args ...any) {
	w.violations = append(w.violations, fmt.Sprintf("round %d: ", w.round)+fmt.Sprintf(format, args...))
}

func (w *world) jobState(name string) datajob.Outcome {
	if j, ok := w.jobs[name]; ok {
		return j.state
	}
	return datajob.Absent
}

const (
	loadJob       = "back-restore"
	neutralizeJob = "back-neutralize"
	filestoreJob  = "back-filestore"
)

// observe reads the facts like the controller does.
func (w *world) observe(st odoov1alpha2.OdooRestoreJobStatus) restore.Facts {
	f := restore.Facts{Instance: live, KeepPrevious: w.keepPrevious, Location: "s3://b/k.zip"}
	switch st.Step {
	case "":
		if !w.instance {
			f.Waiting = "waiting for the instance"
		}
		f.Names = restore.Names{Database: live, Target: target, Kept: kept, Job: loadJob}
	case odoov1alpha2.RestoreStepLoad:
		f.Job = w.jobState(loadJob)
		f.InstanceGone = !w.instance
		if f.Job == datajob.Succeeded {
			f.Neutralize, f.Checked = w.neutralize, true
			if w.dbs[target] != backup {
				f.CheckFailure = "the restored database is not an Odoo database"
			}
		}
	case odoov1alpha2.RestoreStepNeutralize:
		f.InstanceGone = !w.instance
		f.Job = w.jobState(neutralizeJob)
		if f.Job == datajob.Succeeded {
			f.Checked = true
			if !w.neutralized[target] {
				f.CheckFailure = "not neutralized"
			}
			if w.catcher {
				f.MailCatcher, f.MailRouted = "mailpit.mail.svc", w.mailRouted
			}
		}
	case odoov1alpha2.RestoreStepStop:
		f.Stopped = w.hold && w.pods == 0
	case odoov1alpha2.RestoreStepFilestore:
		f.Job = w.jobState(filestoreJob)
		if f.Job == datajob.Succeeded {
			f.FilestoreResult = restore.FilestoreMoved
		}
	case odoov1alpha2.RestoreStepDropPrevious:
		if w.hold || w.pods < 2 {
			f.NotReady = "the instance is not Ready yet"
		}
	}
	return f
}

type crashAt int

const (
	noCrash crashAt = iota
	// crashBeforeSave: the status a step leads to is not stored (for the
	// steps that act first: after the act).
	crashBeforeSave
	// crashAfterSave: the status is stored, the step did not act.
	crashAfterSave
)

func (w *world) createJob(name string) {
	if _, ok := w.jobs[name]; ok {
		return
	}
	w.jobs[name] = &job{state: datajob.Running, left: 2, fails: w.failJobs}
	w.creates[name]++
}

// reconcile is one pass of the operator.
func (w *world) reconcile(crash crashAt) {
	w.round++
	st := w.status()
	if st.Phase.Finished() {
		return
	}
	f := w.observe(st)
	a := restore.Decide(st, f)
	w.trace = append(w.trace, fmt.Sprintf("round %d: %s → %s %s", w.round, st.Step, a.Kind, a.Step))
	save := func() {
		if crash != crashBeforeSave {
			w.store(restore.Apply(st, a, f, metav1.NewTime(w.now)))
		}
	}
	switch a.Kind {
	case restore.Begin, restore.Advance, restore.Pending, restore.Refuse, restore.Fail, restore.Complete:
		save()
	case restore.CreateLoad:
		if crash == crashAfterSave {
			return
		}
		if _, ok := w.dbs[target]; !ok {
			w.dbs[target] = ""
		}
		w.createJob(loadJob)
	case restore.CreateNeutralizeJob:
		w.createJob(neutralizeJob)
	case restore.RouteMail:
		if st.Step != odoov1alpha2.RestoreStepNeutralize {
			w.violate("routed mail at step %s, not in the neutralized copy", st.Step)
		}
		w.mailRouted = true
	case restore.CreateFilestoreJob:
		w.createJob(filestoreJob)
	case restore.Hold:
		w.hold = true
	case restore.Swap:
		if w.pods > 0 || !w.hold {
			w.violate("swapped while web and cron run")
		}
		if content, ok := w.dbs[target]; ok {
			w.dbs[kept] = w.dbs[live]
			w.dbs[live] = content
			delete(w.dbs, target)
		}
		save()
	case restore.Release:
		w.hold = false
		save()
	case restore.DropPrevious:
		w.drop(kept, st)
		save()
	case restore.FailBeforeSwap:
		w.drop(target, st)
		a.TargetDropped = true
		save()
	}
}

func (w *world) drop(name string, st odoov1alpha2.OdooRestoreJobStatus) {
	switch {
	case name == live:
		w.violate("dropped the live database")
	case name == kept && (w.keepPrevious || w.hold || w.pods < 2):
		w.violate("dropped the previous database %s before the instance served the restored one (keep %v)", name, w.keepPrevious)
	case name == target && st.Step != odoov1alpha2.RestoreStepLoad && st.Step != odoov1alpha2.RestoreStepNeutralize:
		w.violate("dropped the target at step %s", st.Step)
	}
	delete(w.dbs, name)
}

// tick moves the world on: Jobs run; web and cron follow the hold and write
// to the live database while they run.
func (w *world) tick() {
	w.now = w.now.Add(time.Minute)
	for name, j := range w.jobs {
		if j.state != datajob.Running {
			continue
		}
		if j.left--; j.left > 0 {
			continue
		}
		if j.fails {
			j.state = datajob.Failed
			continue
		}
		j.state = datajob.Succeeded
		switch name {
		case loadJob:
			w.dbs[target] = backup
			if w.corrupt {
				w.dbs[target] = "garbage"
			}
		case neutralizeJob:
			w.neutralized[target] = true
		case filestoreJob:
			if w.pods > 0 {
				w.violate("the filestore moved while web and cron run")
			}
		}
	}
	switch {
	case w.hold:
		w.pods = 0
	case w.pods < 2:
		// The pods start one by one: Ready only once both run.
		w.pods++
	default:
		w.writes++
		w.dbs[live] = fmt.Sprintf("%s+%d", strings.SplitN(w.dbs[live], "+", 2)[0], w.writes)
	}
}

func (w *world) check() {
	if _, ok := w.dbs[live]; !ok {
		w.violate("the live database is gone")
	}
	for name, n := range w.creates {
		if n > 1 {
			w.violate("Job %s created %d times", name, n)
		}
	}
}

// checkEnd asserts the end state.
func (w *world) checkEnd() {
	st := w.status()
	switch st.Phase {
	case odoov1alpha2.JobCompleted:
		if !strings.HasPrefix(w.dbs[live], backup) {
			w.violate("completed, but the live database holds %q", w.dbs[live])
		}
		if _, ok := w.dbs[kept]; ok != w.keepPrevious {
			w.violate("completed: previous database kept %v, keepPreviousDatabase %v", ok, w.keepPrevious)
		}
		if w.hold {
			w.violate("completed with web and cron still held")
		}
		if w.neutralize && !st.Neutralized {
			w.violate("completed without neutralizing")
		}
		if w.neutralize && w.catcher && !w.mailRouted {
			w.violate("completed without routing the copy's mail to the catcher")
		}
	case odoov1alpha2.JobFailed:
		if strings.HasPrefix(w.dbs[live], backup) {
			break // failed after the swap: the hold stays, by design
		}
		if !strings.HasPrefix(w.dbs[live], "live-0") {
			w.violate("failed before the swap, but the live database holds %q", w.dbs[live])
		}
		if _, ok := w.dbs[target]; ok {
			w.violate("failed before the swap: the target %s is left", target)
		}
		if w.hold {
			w.violate("failed before the swap with web and cron held")
		}
	default:
		w.violate("ends in phase %q at step %q", st.Phase, st.Step)
	}
}

func (w *world) report(t *testing.T, what string) {
	t.Helper()
	if len(w.violations) > 0 {
		t.Fatalf("%s: %s\ntrace:\n%s", what, strings.Join(w.violations, "\n"), strings.Join(w.trace, "\n"))
	}
}

func (w *world) run(crashes func(i int) crashAt) {
	for i := range 80 {
		w.reconcile(crashes(i))
		w.check()
		w.tick()
		w.check()
	}
}

// TestSimulateRestoreWithCrashes runs restores with random options and
// failures, the operator stopped at random points of every step.
func TestSimulateRestoreWithCrashes(t *testing.T) {
	for seed := range uint64(500) {
		w := newWorld(seed)
		w.neutralize, w.keepPrevious = w.rnd.IntN(2) == 0, w.rnd.IntN(2) == 0
		w.catcher = w.rnd.IntN(2) == 0
		w.corrupt = w.rnd.IntN(8) == 0
		w.failJobs = w.rnd.IntN(8) == 0
		w.instance = w.rnd.IntN(4) != 0
		w.run(func(i int) crashAt {
			if i == 5 {
				w.instance = true
			}
			return crashAt(w.rnd.IntN(3))
		})
		w.checkEnd()
		w.report(t, fmt.Sprintf("seed %d", seed))
	}
}

// TestSimulateEveryCrashPoint stops the operator at each reconcile in turn,
// at each point, for each option.
func TestSimulateEveryCrashPoint(t *testing.T) {
	for _, neutralize := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			for at := range 30 {
				for _, crash := range []crashAt{crashBeforeSave, crashAfterSave} {
					w := newWorld(uint64(at))
					w.neutralize, w.keepPrevious, w.catcher = neutralize, keep, neutralize
					w.run(func(i int) crashAt {
						if i == at {
							return crash
						}
						return noCrash
					})
					w.checkEnd()
					if w.status().Phase != odoov1alpha2.JobCompleted {
						w.violate("did not complete")
					}
					w.report(t, fmt.Sprintf("neutralize %v keep %v crash %d at %d", neutralize, keep, crash, at))
				}
			}
		}
	}
}

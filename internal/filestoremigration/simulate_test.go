package filestoremigration_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	fm "github.com/odoo-operator/odoo-operator/internal/filestoremigration"
)

// A simulated world: the claims with the data they hold, the copy Jobs, the
// web and cron tiers writing attachments, and status.filestore as the API
// server stores it. The operator is Decide → Apply (stored) → carry out the
// step, with no memory between reconciles, and may stop at any point: before
// the status is stored, after it is stored and before the step acts, or in
// the middle of a step that acts before it records its end.

type claim struct {
	class    string
	data     int  // the attachments it holds: a version number
	previous bool // labelled filestore=previous
}

type job struct {
	source, target string
	state          datajob.Outcome
	left           int
	fails          bool
}

type world struct {
	rnd   *rand.Rand
	round int
	now   time.Time

	specClass string
	stored    []byte

	claims map[string]*claim
	jobs   map[string]*job
	// creates counts copy Job creations per migration (its start time).
	creates map[string]int

	// tierPods is how many web and cron pods run; tierClaim is the claim
	// they mount.
	tierPods  int
	tierClaim string
	// latest is the newest version of the attachments the tiers wrote.
	latest int

	failNext   bool
	trace      []string
	violations []string
}

const source = "shop-filestore-pvc"

func newWorld(seed uint64) *world {
	w := &world{
		rnd: rand.New(rand.NewPCG(seed, 13)), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		specClass: "slow",
		claims:    map[string]*claim{source: {class: "slow", data: 1}},
		jobs:      map[string]*job{}, creates: map[string]int{},
		tierPods: 2, tierClaim: source, latest: 1,
	}
	w.store(odoov1alpha2.FilestoreStatus{ClaimName: source, StorageClass: "slow"})
	return w
}

func hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:8]
}

func targetName(src, class string) string { return "shop-filestore-" + hash(src, class) }
func jobName(src, target string) string   { return "shop-fsmigrate-" + hash(src, target) }

func (w *world) status() odoov1alpha2.FilestoreStatus {
	var st odoov1alpha2.FilestoreStatus
	if err := json.Unmarshal(w.stored, &st); err != nil {
		panic(err)
	}
	return st
}

func (w *world) store(st odoov1alpha2.FilestoreStatus) {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	w.stored = b
}

func (w *world) violate(format string, args ...any) {
	w.violations = append(w.violations, fmt.Sprintf("round %d: ", w.round)+fmt.Sprintf(format, args...))
}

// observe reads the facts like the controller does.
func (w *world) observe(st odoov1alpha2.FilestoreStatus) fm.Facts {
	f := fm.Facts{SpecClass: w.specClass, CurrentClass: st.StorageClass, Initialized: true}
	if m := st.Migration; m != nil {
		_, f.TargetExists = w.claims[m.TargetClaim]
		if fm.Copying(&st) {
			if j, ok := w.jobs[m.JobName]; ok {
				f.Job = j.state
			}
			f.TiersStopped = w.tierPods == 0
		}
	}
	if st.PreviousClaim != "" {
		_, f.PreviousExists = w.claims[st.PreviousClaim]
		f.ReadyOnClaim = w.tierPods > 0 && w.tierClaim == st.ClaimName
	}
	return f
}

type crashAt int

const (
	noCrash crashAt = iota
	// crashBeforeSave: the step's early part ran, its status was not stored.
	crashBeforeSave
	// crashAfterSave: the status is stored, the step did not act.
	crashAfterSave
)

// reconcile is one pass of the operator's filestore phase.
func (w *world) reconcile(crash crashAt) {
	w.round++
	st := w.status()
	f := w.observe(st)
	a := fm.Decide(st, f)
	w.trace = append(w.trace, fmt.Sprintf("round %d: %s", w.round, a))
	// Every step that stores a status stores it last: crashAfterSave is
	// the same as no crash for them, and the steps that act without
	// storing are repeated by the next reconcile.
	save := func(next odoov1alpha2.FilestoreStatus) {
		if crash != crashBeforeSave {
			w.store(next)
		}
	}
	now := metav1.NewTime(w.now)
	switch a {
	case fm.Start:
		target := targetName(st.ClaimName, w.specClass)
		name := jobName(st.ClaimName, target)
		// Leftovers of an earlier attempt under the same names go first.
		if _, ok := w.jobs[name]; ok {
			w.deleteJob(name)
			return
		}
		if _, ok := w.claims[target]; ok {
			w.deleteClaim(target, st)
			return
		}
		save(fm.Apply(st, a, fm.Inputs{TargetStorageClass: w.specClass, TargetClaim: target, JobName: name}, now))
	case fm.CreateTarget:
		m := st.Migration
		if _, ok := w.claims[m.TargetClaim]; !ok {
			w.claims[m.TargetClaim] = &claim{class: m.TargetStorageClass}
		}
	case fm.RunCopy:
		m := st.Migration
		if _, ok := w.jobs[m.JobName]; !ok {
			w.jobs[m.JobName] = &job{source: m.SourceClaim, target: m.TargetClaim, state: datajob.Running, left: 2, fails: w.failNext}
			w.creates[m.JobName+"@"+m.StartTime.String()]++
		}
	case fm.Swap:
		m := st.Migration
		if c, ok := w.claims[m.SourceClaim]; ok {
			c.previous = true
		}
		if t := w.claims[m.TargetClaim]; t == nil || t.data != w.latest {
			w.violate("swap to %s which does not hold the latest attachments", m.TargetClaim)
		}
		save(fm.Apply(st, a, fm.Inputs{}, now))
	case fm.Fail:
		save(fm.Apply(st, a, fm.Inputs{Why: "the copy failed"}, now))
	case fm.DropTarget:
		w.deleteClaim(st.Migration.TargetClaim, st)
	case fm.Cleanup:
		for n, j := range w.jobs {
			if j.source == st.PreviousClaim || j.target == st.PreviousClaim {
				if j.state == datajob.Running {
					return
				}
				w.deleteJob(n)
			}
		}
		w.deleteClaim(st.PreviousClaim, st)
		save(fm.Apply(st, a, fm.Inputs{}, now))
	case fm.Forget:
		save(fm.Apply(st, a, fm.Inputs{}, now))
	}
}

func (w *world) deleteJob(name string) { delete(w.jobs, name) }

func (w *world) deleteClaim(name string, st odoov1alpha2.FilestoreStatus) {
	if _, ok := w.claims[name]; !ok {
		return
	}
	switch {
	case name == st.ClaimName || name == w.status().ClaimName:
		w.violate("deleted claim %s, the one in use", name)
	case w.tierPods > 0 && w.tierClaim == name:
		w.violate("deleted claim %s while web and cron mount it", name)
	case name == st.PreviousClaim && (w.tierPods == 0 || w.tierClaim != st.ClaimName):
		w.violate("deleted the previous claim %s before the instance was Ready on %s", name, st.ClaimName)
	}
	for _, j := range w.jobs {
		if j.state == datajob.Running && (j.source == name || j.target == name) {
			w.violate("deleted claim %s while a copy Job mounts it", name)
		}
	}
	delete(w.claims, name)
}

// tick moves the world on: Jobs run, the tiers follow the stored status
// (stopped while a migration copies, else on the claim in use) and write.
func (w *world) tick() {
	w.now = w.now.Add(time.Minute)
	for _, j := range w.jobs {
		if j.state != datajob.Running {
			continue
		}
		if w.tierPods > 0 {
			w.violate("a copy Job runs while web and cron run: their writes would be lost")
		}
		if j.left--; j.left > 0 {
			continue
		}
		src, dst := w.claims[j.source], w.claims[j.target]
		switch {
		case j.fails || src == nil || dst == nil:
			j.state = datajob.Failed
			if dst != nil {
				dst.data = -1 // half written
			}
		default:
			dst.data = src.data
			j.state = datajob.Succeeded
		}
	}
	st := w.status()
	switch {
	case fm.Copying(&st):
		w.tierPods = 0
	case w.tierPods == 0 || w.tierClaim != st.ClaimName:
		w.tierPods, w.tierClaim = 2, st.ClaimName
	default:
		c := w.claims[w.tierClaim]
		if c == nil {
			w.violate("web and cron run on claim %s, which is gone", w.tierClaim)
			return
		}
		w.latest++
		c.data = w.latest
	}
}

// check asserts what holds after every step.
func (w *world) check() {
	st := w.status()
	c := w.claims[st.ClaimName]
	switch {
	case c == nil:
		w.violate("the claim in use %s is gone", st.ClaimName)
	case c.data != w.latest:
		w.violate("the claim in use %s holds version %d of the attachments, the tiers wrote %d", st.ClaimName, c.data, w.latest)
	case c.class != st.StorageClass:
		w.violate("status says class %q, claim %s is %q", st.StorageClass, st.ClaimName, c.class)
	}
	for k, n := range w.creates {
		if n > 1 {
			w.violate("copy Job %s created %d times", k, n)
		}
	}
}

// settle runs without crashes or changes until nothing is left to do.
func (w *world) settle() {
	for range 40 {
		w.reconcile(noCrash)
		w.check()
		w.tick()
	}
}

// checkEnd asserts the end state once the spec stopped changing.
func (w *world) checkEnd(t *testing.T, wantClass string, failed bool) {
	t.Helper()
	st := w.status()
	switch {
	case fm.Copying(&st):
		w.violate("still copying at the end")
	case st.PreviousClaim != "":
		w.violate("previous claim %s left", st.PreviousClaim)
	case !failed && wantClass != "" && st.StorageClass != wantClass:
		w.violate("ends on class %q, spec asks %q", st.StorageClass, wantClass)
	case failed && st.Migration == nil:
		w.violate("a failed migration is not reported")
	}
	var names []string
	for n := range w.claims {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) != 1 || names[0] != st.ClaimName {
		w.violate("claims left %v, want only %s", names, st.ClaimName)
	}
	if w.tierPods == 0 || w.tierClaim != st.ClaimName {
		w.violate("web and cron do not run on %s", st.ClaimName)
	}
}

func (w *world) report(t *testing.T, seed uint64) {
	t.Helper()
	if len(w.violations) > 0 {
		t.Fatalf("seed %d: %s\ntrace:\n%s", seed, strings.Join(w.violations, "\n"), strings.Join(w.trace, "\n"))
	}
}

// TestSimulateMigrationWithCrashes changes the class at random moments,
// lets copies fail at random and stops the operator at random points of
// each step; every run must keep the attachments, create each copy Job at
// most once, and end on the spec's class with one claim left.
func TestSimulateMigrationWithCrashes(t *testing.T) {
	classes := []string{"slow", "fast", "faster", ""}
	for seed := range uint64(400) {
		w := newWorld(seed)
		for range 60 {
			if w.rnd.IntN(8) == 0 {
				w.specClass = classes[w.rnd.IntN(len(classes))]
			}
			w.failNext = w.rnd.IntN(5) == 0
			crash := crashAt(w.rnd.IntN(3))
			w.reconcile(crash)
			w.check()
			if w.rnd.IntN(2) == 0 {
				w.tick()
			}
		}
		w.failNext = false
		w.settle()
		st := w.status()
		failed := st.Migration != nil && st.Migration.Phase == odoov1alpha2.FilestoreMigrationFailed &&
			st.Migration.TargetStorageClass == w.specClass
		w.checkEnd(t, w.specClass, failed)
		w.report(t, seed)
	}
}

// TestSimulateEveryCrashPoint runs one migration with the operator stopped
// at each reconcile in turn, at each point of it.
func TestSimulateEveryCrashPoint(t *testing.T) {
	for _, fails := range []bool{false, true} {
		for at := range 14 {
			for _, crash := range []crashAt{crashBeforeSave, crashAfterSave} {
				w := newWorld(uint64(at))
				w.specClass, w.failNext = "fast", fails
				for i := range 30 {
					if i == at {
						w.reconcile(crash)
					} else {
						w.reconcile(noCrash)
					}
					w.check()
					w.tick()
				}
				w.failNext = false
				w.settle()
				w.checkEnd(t, "fast", fails)
				w.report(t, uint64(at))
				st := w.status()
				if !fails && (st.ClaimName != targetName(source, "fast") || st.StorageClass != "fast") {
					t.Fatalf("crash %d at %d: ends on %s (%s)", crash, at, st.ClaimName, st.StorageClass)
				}
			}
		}
	}
}

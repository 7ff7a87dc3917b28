package dbmove_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbmove"
)

// A simulated world: three clusters with the database's data (a version
// number) where it exists, the dump and load Jobs, web and cron writing to
// the serving database while they run, and status.database as the API
// server stores it. The operator is Decide → Apply (stored) → carry out the
// step, with no memory between reconciles, and may stop at any point:
// before the status is stored, after it is stored and before the step acts.

type simJob struct {
	state datajob.Outcome
	left  int
	fails bool
}

type world struct {
	rnd        *rand.Rand
	stored     []byte
	spec       string
	dbs        map[string]*int // cluster → data version of the database there
	created    map[string]bool // target databases the move created
	jobs       map[string]*simJob
	creates    map[string]int
	dumps      map[string]int // dump file → data
	tierPods   int
	latest     int
	failNext   bool
	gen        int
	violations []string
}

func ptr(i int) *int { return &i }

func newWorld(seed uint64) *world {
	w := &world{rnd: rand.New(rand.NewPCG(seed, 7)), spec: "a",
		dbs: map[string]*int{"a": ptr(1)}, created: map[string]bool{}, jobs: map[string]*simJob{},
		creates: map[string]int{}, dumps: map[string]int{}, tierPods: 2, latest: 1}
	w.store(odoov1alpha2.DatabaseStatus{Cluster: "a", Name: "shop", Initialized: true})
	return w
}

func (w *world) status() odoov1alpha2.DatabaseStatus {
	var st odoov1alpha2.DatabaseStatus
	if err := json.Unmarshal(w.stored, &st); err != nil {
		panic(err)
	}
	return st
}

func (w *world) store(st odoov1alpha2.DatabaseStatus) {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	w.stored = b
}

func (w *world) violate(format string, args ...any) {
	w.violations = append(w.violations, fmt.Sprintf(format, args...))
}

// crash is true when the operator stops here.
func (w *world) crash() bool { return w.rnd.IntN(8) == 0 }

// tick moves the world on: the tiers follow the hold, Jobs progress, the
// tiers write to the serving database, the user may change the spec.
func (w *world) tick() {
	st := w.status()
	if dbmove.Moving(&st) {
		// Pods take a random time to stop.
		if w.tierPods > 0 && w.rnd.IntN(3) == 0 {
			w.tierPods--
		}
	} else if w.tierPods < 2 {
		w.tierPods++
	}
	if w.tierPods > 0 {
		if d := w.dbs[st.Cluster]; d != nil {
			w.latest++
			*d = w.latest
		}
	}
	for _, j := range w.jobs {
		if j.state != datajob.Running {
			continue
		}
		if j.left--; j.left > 0 {
			continue
		}
		j.state = datajob.Succeeded
		if j.fails {
			j.state = datajob.Failed
			continue
		}
	}
	if w.rnd.IntN(25) == 0 {
		w.spec = []string{"a", "b", "c", ""}[w.rnd.IntN(4)]
		w.gen++
	}
}

func (w *world) reconcile() {
	st := w.status()
	m := st.Move
	f := dbmove.Facts{Serving: st.Cluster, Wanted: w.spec, Ready: true, TiersStopped: w.tierPods == 0}
	if m == nil || m.Phase != odoov1alpha2.DatabaseMoveMoving {
		if w.spec != "" && w.spec != st.Cluster && w.dbs[w.spec] != nil {
			f.Refusal = "database shop already exists on cluster " + w.spec
		}
	}
	if m != nil && m.Phase == odoov1alpha2.DatabaseMoveMoving {
		var name string
		switch m.Step {
		case odoov1alpha2.DatabaseMoveStepDump:
			name = m.DumpJob
		case odoov1alpha2.DatabaseMoveStepLoad:
			name = m.LoadJob
		}
		if j := w.jobs[name]; j != nil && name != "" {
			f.Job = j.state
		}
	}
	a := dbmove.Decide(m, f)
	if a.Kind == dbmove.Check {
		src, dst := w.dbs[m.SourceCluster], w.dbs[m.TargetCluster]
		f.Checked = true
		if src == nil || dst == nil || *src != *dst {
			f.CheckFailure = "the target differs from the source"
		}
		a = dbmove.Decide(m, f)
	}
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	switch a.Kind {
	case dbmove.None, dbmove.Wait, dbmove.Refuse:
		return
	case dbmove.Begin:
		id := fmt.Sprintf("%s-%s-%d", st.Cluster, w.spec, w.gen)
		n := dbmove.Names{Source: st.Cluster, Target: w.spec, DumpJob: "dump-" + id, DumpFile: id + ".dump", LoadJob: "load-" + id}
		if w.crash() {
			return
		}
		w.store(dbmove.Apply(st, a, n, now))
	case dbmove.Advance, dbmove.Forget, dbmove.Swap:
		if a.Kind == dbmove.Swap {
			if *w.dbs[m.TargetCluster] != w.latest {
				w.violate("swap to %s with data %d, the newest write was %d", m.TargetCluster, *w.dbs[m.TargetCluster], w.latest)
			}
		}
		if w.crash() {
			return
		}
		w.store(dbmove.Apply(st, a, dbmove.Names{}, now))
		if a.Kind == dbmove.Swap {
			// Now the instance's database, no longer the move's to drop.
			delete(w.created, m.TargetCluster)
		}
	case dbmove.RunDump, dbmove.RunLoad:
		name := m.DumpJob
		if a.Kind == dbmove.RunLoad {
			name = m.LoadJob
		}
		if w.jobs[name] != nil {
			w.violate("Job %s created twice", name)
			return
		}
		w.creates[name]++
		j := &simJob{state: datajob.Running, left: 1 + w.rnd.IntN(3), fails: w.failNext}
		w.failNext = false
		if a.Kind == dbmove.RunDump {
			if w.tierPods > 0 {
				w.violate("dump while the tiers run")
			}
			w.dumps[m.DumpFile] = *w.dbs[m.SourceCluster]
		} else {
			if w.dbs[m.TargetCluster] == nil {
				w.violate("load into a missing target")
				return
			}
			if !j.fails {
				*w.dbs[m.TargetCluster] = w.dumps[m.DumpFile]
				if w.rnd.IntN(10) == 0 {
					// A load that reports success but lost rows: the
					// check must catch it.
					*w.dbs[m.TargetCluster]--
				}
			}
		}
		w.jobs[name] = j
	case dbmove.CreateTarget:
		if w.dbs[m.TargetCluster] == nil {
			w.dbs[m.TargetCluster] = ptr(0)
			w.created[m.TargetCluster] = true
		} else if !w.created[m.TargetCluster] {
			w.violate("the move adopted a database it did not create on %s", m.TargetCluster)
		}
		if w.crash() {
			return
		}
		w.store(dbmove.Apply(st, a, dbmove.Names{}, now))
	case dbmove.Fail:
		if dbmove.TargetCreated(m) {
			if w.dbs[m.TargetCluster] != nil && !w.created[m.TargetCluster] {
				w.violate("dropping a database the move did not create on %s", m.TargetCluster)
			}
			delete(w.dbs, m.TargetCluster)
			delete(w.created, m.TargetCluster)
		}
		if w.crash() {
			return
		}
		w.store(dbmove.Apply(st, a, dbmove.Names{}, now))
	}
}

func TestSimulatedMoves(t *testing.T) {
	swaps, failures := 0, 0
	reasons := map[string]int{}
	for seed := range uint64(200) {
		w := newWorld(seed)
		sources := map[string]int{}
		for range 400 {
			if w.rnd.IntN(80) == 0 {
				w.failNext = true
			}
			before := w.status()
			w.reconcile()
			after := w.status()
			if after.Cluster != before.Cluster {
				swaps++
				sources[before.Cluster]++
			}
			if m := after.Move; m != nil && m.Phase == odoov1alpha2.DatabaseMoveFailed && (before.Move == nil || before.Move.Phase != odoov1alpha2.DatabaseMoveFailed) {
				failures++
				reasons[m.Message[:75]]++
				if after.Cluster != m.SourceCluster || w.dbs[m.SourceCluster] == nil {
					w.violate("a failed move left cluster %q (source %q)", after.Cluster, m.SourceCluster)
				}
			}
			w.tick()
			if w.dbs[w.status().Cluster] == nil {
				w.violate("the serving cluster %q has no database", w.status().Cluster)
			}
		}
		// Left alone, the world settles on the spec (or a refusal/failure).
		w.failNext = false
		for range 200 {
			w.reconcile()
			st := w.status()
			if dbmove.Moving(&st) {
				w.tierPodsTick()
			} else {
				break
			}
		}
		if st := w.status(); dbmove.Moving(&st) {
			w.violate("the move did not settle: %+v", st.Move)
		}
		for name, n := range w.creates {
			if n > 1 {
				w.violate("Job %s created %d times", name, n)
			}
		}
		if len(w.violations) > 0 {
			t.Fatalf("seed %d: %v", seed, w.violations)
		}
	}
	// The simulation must have exercised both outcomes.
	if swaps < 50 || failures < 10 {
		t.Fatalf("too few moves simulated: %d swaps, %d failures", swaps, failures)
	}
	t.Logf("%d swaps, %d failures %v", swaps, failures, reasons)
}

// tierPodsTick is tick without the user: the Jobs and tiers progress.
func (w *world) tierPodsTick() {
	spec, gen := w.spec, w.gen
	w.tick()
	w.spec, w.gen = spec, gen
}

package dbmove_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbmove"
)

func moving(step odoov1alpha2.DatabaseMoveStep) *odoov1alpha2.DatabaseMove {
	return &odoov1alpha2.DatabaseMove{Phase: odoov1alpha2.DatabaseMoveMoving, Step: step, SourceCluster: "main", TargetCluster: "analytics"}
}

func TestDecide(t *testing.T) {
	failed := &odoov1alpha2.DatabaseMove{Phase: odoov1alpha2.DatabaseMoveFailed, SourceCluster: "main", TargetCluster: "analytics"}
	done := &odoov1alpha2.DatabaseMove{Phase: odoov1alpha2.DatabaseMoveSucceeded, SourceCluster: "main", TargetCluster: "analytics"}
	idle := dbmove.Facts{Serving: "main", Wanted: "analytics", Ready: true}
	with := func(f dbmove.Facts, edit func(*dbmove.Facts)) dbmove.Facts { edit(&f); return f }
	tests := []struct {
		name string
		move *odoov1alpha2.DatabaseMove
		f    dbmove.Facts
		want dbmove.Action
	}{
		{"no move asked", nil, dbmove.Facts{Serving: "main", Wanted: "main", Ready: true}, dbmove.Action{Kind: dbmove.None}},
		{"empty spec never moves", nil, dbmove.Facts{Serving: "main", Ready: true}, dbmove.Action{Kind: dbmove.None}},
		{"a move is asked", nil, idle, dbmove.Action{Kind: dbmove.Begin}},
		{"not before init or during an upgrade", nil, with(idle, func(f *dbmove.Facts) { f.Ready = false }), dbmove.Action{Kind: dbmove.None}},
		{"refused", nil, with(idle, func(f *dbmove.Facts) { f.Refusal = "no such cluster" }), dbmove.Action{Kind: dbmove.Refuse, Why: "no such cluster"}},
		{"a succeeded move back to its source is a new move", done, dbmove.Facts{Serving: "analytics", Wanted: "main", Ready: true}, dbmove.Action{Kind: dbmove.Begin}},
		{"a succeeded move stays recorded", done, dbmove.Facts{Serving: "analytics", Wanted: "analytics"}, dbmove.Action{Kind: dbmove.None}},
		{"a failed move is not retried", failed, idle, dbmove.Action{Kind: dbmove.None}},
		{"a failed move is retried toward another cluster", failed, with(idle, func(f *dbmove.Facts) { f.Wanted = "third" }), dbmove.Action{Kind: dbmove.Begin}},
		{"a failed move is forgotten once the spec goes back", failed, dbmove.Facts{Serving: "main", Wanted: "main"}, dbmove.Action{Kind: dbmove.Forget}},
		{"a failed move is forgotten once the spec is emptied", failed, dbmove.Facts{Serving: "main"}, dbmove.Action{Kind: dbmove.Forget}},
		{"stop waits for the tiers", moving(odoov1alpha2.DatabaseMoveStepStop), dbmove.Facts{}, dbmove.Action{Kind: dbmove.Wait}},
		{"stopped: dump", moving(odoov1alpha2.DatabaseMoveStepStop), dbmove.Facts{TiersStopped: true},
			dbmove.Action{Kind: dbmove.Advance, Step: odoov1alpha2.DatabaseMoveStepDump}},
		{"a move in progress ignores a changed spec", moving(odoov1alpha2.DatabaseMoveStepStop), dbmove.Facts{Wanted: "main", Serving: "main", TiersStopped: true},
			dbmove.Action{Kind: dbmove.Advance, Step: odoov1alpha2.DatabaseMoveStepDump}},
		{"dump absent", moving(odoov1alpha2.DatabaseMoveStepDump), dbmove.Facts{Job: datajob.Absent}, dbmove.Action{Kind: dbmove.RunDump}},
		{"dump runs", moving(odoov1alpha2.DatabaseMoveStepDump), dbmove.Facts{Job: datajob.Running}, dbmove.Action{Kind: dbmove.Wait}},
		{"dump done", moving(odoov1alpha2.DatabaseMoveStepDump), dbmove.Facts{Job: datajob.Succeeded},
			dbmove.Action{Kind: dbmove.Advance, Step: odoov1alpha2.DatabaseMoveStepCreateTarget}},
		{"dump failed", moving(odoov1alpha2.DatabaseMoveStepDump), dbmove.Facts{Job: datajob.Failed, JobFailure: "exit 1"},
			dbmove.Action{Kind: dbmove.Fail, Why: "the dump of the source database failed: exit 1"}},
		{"create target", moving(odoov1alpha2.DatabaseMoveStepCreateTarget), dbmove.Facts{}, dbmove.Action{Kind: dbmove.CreateTarget}},
		{"load absent", moving(odoov1alpha2.DatabaseMoveStepLoad), dbmove.Facts{}, dbmove.Action{Kind: dbmove.RunLoad}},
		{"load done", moving(odoov1alpha2.DatabaseMoveStepLoad), dbmove.Facts{Job: datajob.Succeeded},
			dbmove.Action{Kind: dbmove.Advance, Step: odoov1alpha2.DatabaseMoveStepCheck}},
		{"load failed", moving(odoov1alpha2.DatabaseMoveStepLoad), dbmove.Facts{Job: datajob.Failed},
			dbmove.Action{Kind: dbmove.Fail, Why: "loading the dump into the target database failed"}},
		{"check", moving(odoov1alpha2.DatabaseMoveStepCheck), dbmove.Facts{}, dbmove.Action{Kind: dbmove.Check}},
		{"check differs", moving(odoov1alpha2.DatabaseMoveStepCheck), dbmove.Facts{Checked: true, CheckFailure: "table x differs"},
			dbmove.Action{Kind: dbmove.Fail, Why: "table x differs"}},
		{"check equal: swap", moving(odoov1alpha2.DatabaseMoveStepCheck), dbmove.Facts{Checked: true}, dbmove.Action{Kind: dbmove.Swap}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dbmove.Decide(tt.move, tt.f); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := odoov1alpha2.DatabaseStatus{Cluster: "main", Name: "shop", Initialized: true}
	n := dbmove.Names{Source: "main", Target: "analytics", DumpJob: "shop-dbmove-dump-1", DumpFile: "shop-move-1.dump", LoadJob: "shop-dbmove-load-1"}
	st := dbmove.Apply(db, dbmove.Action{Kind: dbmove.Begin}, n, now)
	if db.Move != nil {
		t.Fatal("Apply modified its input")
	}
	m := st.Move
	if m.Phase != odoov1alpha2.DatabaseMoveMoving || m.Step != odoov1alpha2.DatabaseMoveStepStop || m.DumpJob != n.DumpJob || m.LoadJob != n.LoadJob || st.Cluster != "main" {
		t.Fatalf("Begin recorded %+v (cluster %q)", m, st.Cluster)
	}
	st = dbmove.Apply(st, dbmove.Action{Kind: dbmove.CreateTarget}, dbmove.Names{}, now)
	if st.Move.Step != odoov1alpha2.DatabaseMoveStepLoad {
		t.Fatalf("CreateTarget recorded step %q, want Load", st.Move.Step)
	}
	failed := dbmove.Apply(st, dbmove.Action{Kind: dbmove.Fail, Why: "boom"}, dbmove.Names{}, now)
	if failed.Cluster != "main" || failed.Move.Phase != odoov1alpha2.DatabaseMoveFailed ||
		!strings.Contains(failed.Move.Message, `spec.database.cluster "analytics" was not applied: boom`) || !strings.Contains(failed.Move.Message, `set spec.database.cluster back to "main"`) {
		t.Fatalf("Fail recorded cluster %q, %+v", failed.Cluster, failed.Move)
	}
	swapped := dbmove.Apply(st, dbmove.Action{Kind: dbmove.Swap}, dbmove.Names{}, now)
	if swapped.Cluster != "analytics" || swapped.Move.Phase != odoov1alpha2.DatabaseMoveSucceeded || !strings.Contains(swapped.Move.Message, `the database on "main" is kept`) {
		t.Fatalf("Swap recorded cluster %q, %+v", swapped.Cluster, swapped.Move)
	}
	if got := dbmove.Apply(failed, dbmove.Action{Kind: dbmove.Forget}, dbmove.Names{}, now); got.Move != nil {
		t.Fatalf("Forget kept %+v", got.Move)
	}
}

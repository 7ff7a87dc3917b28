package dbmove

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Names are what Begin records, derived by the controller from the
// instance, the clusters and the generation that asked for the move: a move
// back and forth gets new names, a resumed move finds its own.
type Names struct {
	Source, Target, DumpJob, DumpFile, LoadJob string
}

// Apply returns the database status to store for a; it is pure, db is not
// modified. Actions that change no status return it as is.
func Apply(db odoov1alpha2.DatabaseStatus, a Action, n Names, now metav1.Time) odoov1alpha2.DatabaseStatus {
	next := *db.DeepCopy()
	switch a.Kind {
	case Begin:
		next.Move = &odoov1alpha2.DatabaseMove{
			Phase: odoov1alpha2.DatabaseMoveMoving, Step: odoov1alpha2.DatabaseMoveStepStop,
			SourceCluster: n.Source, TargetCluster: n.Target,
			DumpJob: n.DumpJob, DumpFile: n.DumpFile, LoadJob: n.LoadJob, StartTime: &now,
		}
		next.Move.Message = stepMessage(next.Move)
	case Advance:
		next.Move.Step = a.Step
		next.Move.Message = stepMessage(next.Move)
	case CreateTarget:
		next.Move.Step = odoov1alpha2.DatabaseMoveStepLoad
		next.Move.Message = stepMessage(next.Move)
	case Swap:
		m := next.Move
		next.Cluster = m.TargetCluster
		m.Phase, m.Step, m.CompletionTime = odoov1alpha2.DatabaseMoveSucceeded, "", &now
		m.Message = SwapMessage(db.Name, m)
	case Fail:
		m := next.Move
		m.Phase, m.Step, m.CompletionTime = odoov1alpha2.DatabaseMoveFailed, "", &now
		m.Message = fmt.Sprintf("spec.database.cluster %q was not applied: %s; the instance keeps database %q on cluster %q, untouched; set spec.database.cluster back to %q, or change it again to retry",
			m.TargetCluster, a.Why, db.Name, m.SourceCluster, m.SourceCluster)
	case Forget:
		next.Move = nil
	}
	return next
}

// SwapMessage says what a successful move did and where the old database is.
func SwapMessage(db string, m *odoov1alpha2.DatabaseMove) string {
	return fmt.Sprintf("database %q moved from cluster %q to %q (dump %s on claim restore-points, loaded by Job %s, every table compared); the database on %q is kept: drop it there by hand once you no longer need it",
		db, m.SourceCluster, m.TargetCluster, m.DumpFile, m.LoadJob, m.SourceCluster)
}

func stepMessage(m *odoov1alpha2.DatabaseMove) string {
	what := map[odoov1alpha2.DatabaseMoveStep]string{
		odoov1alpha2.DatabaseMoveStepStop:         "waiting for web and cron to stop",
		odoov1alpha2.DatabaseMoveStepDump:         "Job " + m.DumpJob + " dumps the source database",
		odoov1alpha2.DatabaseMoveStepCreateTarget: "creating the role and the empty database on the target",
		odoov1alpha2.DatabaseMoveStepLoad:         "Job " + m.LoadJob + " loads the dump into the target",
		odoov1alpha2.DatabaseMoveStepCheck:        "comparing every table of the source and the target",
	}[m.Step]
	return fmt.Sprintf("moving the database from cluster %q to %q: %s; web and cron are stopped", m.SourceCluster, m.TargetCluster, what)
}

package operation

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Verdict is what an operation may do while another holds the lock.
type Verdict int

const (
	// RunTogether means the wanted operation may run now.
	RunTogether Verdict = iota
	// Wait means the wanted operation waits until the holder releases the lock.
	Wait
	// Refuse means the wanted operation must not run on this database at all
	// while the holder holds it; it reports the conflict instead of queueing.
	Refuse
)

// String names the verdict, for messages and test output.
func (v Verdict) String() string {
	switch v {
	case Wait:
		return "Wait"
	case Refuse:
		return "Refuse"
	}
	return "RunTogether"
}

// Kinds are every operation kind, in the API's order.
var Kinds = []odoov1alpha2.OperationKind{
	odoov1alpha2.OperationInit, odoov1alpha2.OperationUpgrade, odoov1alpha2.OperationModuleInstall,
	odoov1alpha2.OperationFilestoreMigration, odoov1alpha2.OperationBackup, odoov1alpha2.OperationRestore,
	odoov1alpha2.OperationStagingRefresh, odoov1alpha2.OperationDatabaseMove,
}

// Compatible says what wanted may do while held holds the lock ("" held:
// nothing holds it). It is pure; the package documentation gives the rule.
// The same kind and name is the holder itself (re-entrant): that case is
// Check's, not this function's.
func Compatible(held, wanted odoov1alpha2.OperationKind) Verdict {
	switch {
	case held == "":
		return RunTogether
	case wanted == odoov1alpha2.OperationInit && held != odoov1alpha2.OperationInit:
		return Refuse
	}
	return Wait
}

// StaleGrace is how old a Backup or Restore record must be before a missing
// owner object releases it.
const StaleGrace = 30 * time.Second

// maxAttempts bounds the re-reads after a conflict within one call.
const maxAttempts = 4

// Decision is the outcome of Check, Acquire and SetStep.
type Decision struct {
	// Verdict is RunTogether when the caller may go on.
	Verdict Verdict
	// Holder is the operation in the way (nil when the caller may go on).
	Holder *odoov1alpha2.OperationStatus
	// Message says why the caller waits or is refused, "" when it may go on.
	Message string
	// Recorded is true when status.operation names the caller (false for
	// the upgrade's restore point, which runs inside the upgrade's lock).
	Recorded bool
}

// Go is true when the caller may act.
func (d Decision) Go() bool { return d.Verdict == RunTogether }

// Holders are the operations holding inst's lock: status.operation, then
// what older operator versions recorded elsewhere (see the package
// documentation), without duplicates.
func Holders(inst *odoov1alpha2.OdooInstance) []odoov1alpha2.OperationStatus {
	var out []odoov1alpha2.OperationStatus
	add := func(h odoov1alpha2.OperationStatus) {
		for _, o := range out {
			if o.Kind == h.Kind && o.Name == h.Name {
				return
			}
		}
		out = append(out, h)
	}
	if op := inst.Status.Operation; op != nil {
		add(*op)
	}
	if name := inst.Annotations[odoov1alpha2.AnnotationRestoreHold]; name != "" {
		add(odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationRestore, Name: name, Step: string(odoov1alpha2.RestoreStepStop)})
	}
	if db := inst.Status.Database; db == nil || !db.Initialized || db.Name == "" {
		add(odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationInit, Name: inst.Name})
	}
	if st := inst.Status.Upgrade; st.InFlight() {
		add(odoov1alpha2.OperationStatus{Kind: st.OperationKind(), Name: inst.Name, Step: string(st.Step)})
	}
	if f := inst.Status.Filestore; f != nil && f.Migration != nil && f.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying {
		add(odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationFilestoreMigration, Name: inst.Name})
	}
	return out
}

// Check decides, without writing, whether the operation kind/name may act
// on inst now. It is pure: every holder of Holders must allow it.
func Check(inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name string) Decision {
	for _, h := range Holders(inst) {
		switch {
		case h.Kind == kind && h.Name == name:
			continue
		case insideUpgrade(inst, h, kind, name), handedOver(h, kind, name):
			continue
		}
		if v := Compatible(h.Kind, kind); v != RunTogether {
			h := h
			return Decision{Verdict: v, Holder: &h, Message: message(inst, h, v, kind)}
		}
	}
	op := inst.Status.Operation
	return Decision{Recorded: op != nil && op.Kind == kind && op.Name == name}
}

// insideUpgrade is the upgrade's own restore point: the backup the upgrade
// holding the lock named in status.upgrade.restorePointBackup.
func insideUpgrade(inst *odoov1alpha2.OdooInstance, h odoov1alpha2.OperationStatus, kind odoov1alpha2.OperationKind, name string) bool {
	st := inst.Status.Upgrade
	return h.Kind == st.OperationKind() && h.Name == inst.Name && kind == odoov1alpha2.OperationBackup &&
		st.InFlight() && st.RestorePointBackup != "" && st.RestorePointBackup == name
}

// message says what the wanted operation waits for, or why it is refused.
func message(inst *odoov1alpha2.OdooInstance, h odoov1alpha2.OperationStatus, v Verdict, wanted odoov1alpha2.OperationKind) string {
	var holder string
	switch h.Kind {
	case odoov1alpha2.OperationInit:
		holder = "the instance's database to be initialised"
	case odoov1alpha2.OperationUpgrade:
		step := h.Step
		if st := inst.Status.Upgrade; st.InFlight() {
			step = string(st.Step)
		}
		holder = "the instance's upgrade to end (step " + step + ")"
	case odoov1alpha2.OperationModuleInstall:
		holder = "the instance's module install to end (step " + h.Step + ")"
	case odoov1alpha2.OperationFilestoreMigration:
		holder = "the instance's filestore migration to end"
	case odoov1alpha2.OperationBackup:
		holder = "the backup " + h.Name + " of the instance to end"
	case odoov1alpha2.OperationRestore:
		holder = "the restore " + h.Name + " to end"
	default:
		holder = fmt.Sprintf("the operation %s %s on the instance to end", h.Kind, h.Name)
	}
	if v == Refuse {
		return fmt.Sprintf("%s refused: the instance's database is in use (status.operation: %s %s); it runs only on a database no operation holds",
			wanted, h.Kind, h.Name)
	}
	return "waiting for " + holder
}

// Acquire takes inst's lock for the operation kind/name, or says why not
// (Decision.Go false). It is re-entrant: the holder gets RunTogether again,
// its record untouched. A Backup or Restore record whose owner ended or
// vanished is taken over (see the package documentation). inst is updated
// with what the server returned.
func Acquire(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name string) (Decision, error) {
	return take(ctx, c, inst, kind, name, nil)
}

// SetStep is Acquire that also records step as the holder's current step
// (status.operation.step). A caller that does not hold the lock takes it
// when it may; otherwise the decision says what it waits for.
func SetStep(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name, step string) (Decision, error) {
	return take(ctx, c, inst, kind, name, &step)
}

func take(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name string, step *string) (Decision, error) {
	for attempt := 1; ; attempt++ {
		stale, err := staleRecord(ctx, c, inst)
		if err != nil {
			return Decision{}, err
		}
		view := inst
		if stale {
			view = inst.DeepCopy()
			view.Status.Operation = nil
		}
		d := Check(view, kind, name)
		if !d.Go() {
			return d, nil
		}
		op := inst.Status.Operation
		mine := op != nil && op.Kind == kind && op.Name == name
		switch {
		case !mine && insideUpgradeOf(view, kind, name):
			// The upgrade's restore point: the upgrade's record stays.
			return d, nil
		case mine && (step == nil || op.Step == *step):
			return d, nil
		}
		next := odoov1alpha2.OperationStatus{Kind: kind, Name: name, Started: metav1.Now()}
		if mine {
			next = *op
		}
		if step != nil {
			next.Step = *step
		}
		err = write(ctx, c, inst, &next)
		if err == nil {
			return Decision{Recorded: true}, nil
		}
		if !apierrors.IsConflict(err) || attempt == maxAttempts {
			return Decision{}, err
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
			return Decision{}, err
		}
	}
}

// insideUpgradeOf is true when kind/name runs inside the upgrade holding
// inst (its restore point).
func insideUpgradeOf(inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name string) bool {
	for _, h := range Holders(inst) {
		if insideUpgrade(inst, h, kind, name) {
			return true
		}
	}
	return false
}

// Release gives inst's lock back when the operation kind/name holds it; a
// no-op otherwise (the lock was never taken, or another operation took over
// a stale record).
func Release(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance, kind odoov1alpha2.OperationKind, name string) error {
	for attempt := 1; ; attempt++ {
		op := inst.Status.Operation
		if op == nil || op.Kind != kind || op.Name != name {
			return nil
		}
		err := write(ctx, c, inst, nil)
		if err == nil || !apierrors.IsConflict(err) || attempt == maxAttempts {
			return client.IgnoreNotFound(err)
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(inst), inst); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
}

// write sets status.operation to op (nil: removes it) with the instance's
// resourceVersion as a precondition; on success inst is what the server
// returned, on failure it is left as it was.
func write(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance, op *odoov1alpha2.OperationStatus) error {
	base := inst.DeepCopy()
	inst.Status.Operation = op
	if err := c.Status().Patch(ctx, inst, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		base.DeepCopyInto(inst)
		return err
	}
	return nil
}

// staleRecord is true when status.operation names a Backup, Restore or
// StagingRefresh whose owner object ended, or vanished more than StaleGrace
// after the record was written.
func staleRecord(ctx context.Context, c client.Client, inst *odoov1alpha2.OdooInstance) (bool, error) {
	op := inst.Status.Operation
	if op == nil {
		return false, nil
	}
	key := client.ObjectKey{Namespace: inst.Namespace, Name: op.Name}
	var err error
	var finished bool
	switch op.Kind {
	case odoov1alpha2.OperationBackup:
		b := &odoov1alpha2.OdooBackupJob{}
		err = c.Get(ctx, key, b)
		finished = err == nil && b.Status.Phase.Finished()
	case odoov1alpha2.OperationRestore:
		rj := &odoov1alpha2.OdooRestoreJob{}
		err = c.Get(ctx, key, rj)
		finished = err == nil && rj.Status.Phase.Finished()
	case odoov1alpha2.OperationStagingRefresh:
		sr := &odoov1alpha2.OdooStagingRefreshJob{}
		err = c.Get(ctx, key, sr)
		finished = err == nil && sr.Status.Phase.Finished()
	default:
		return false, nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return time.Since(op.Started.Time) > StaleGrace, nil
	case err != nil:
		return false, err
	}
	return finished, nil
}

// TiersHeld names the restore that keeps the instance's web and cron at 0
// replicas, "" when none: the OdooRestoreJob holding the lock from its Stop
// step to its Start step, or the bemade.org/restore-hold annotation (set by
// an operator version older than the lock, or left by a restore that failed
// after its swap, for the user to remove).
func TiersHeld(inst *odoov1alpha2.OdooInstance) string {
	if name := inst.Annotations[odoov1alpha2.AnnotationRestoreHold]; name != "" {
		return name
	}
	op := inst.Status.Operation
	if op == nil || op.Kind != odoov1alpha2.OperationRestore {
		return ""
	}
	switch odoov1alpha2.RestoreStep(op.Step) {
	case odoov1alpha2.RestoreStepStop, odoov1alpha2.RestoreStepSwap, odoov1alpha2.RestoreStepFilestore:
		return op.Name
	}
	return ""
}

// Uncached is c with its reads (Get, List) served by reader, for callers
// whose client reads from the cache: after a conflict the lock re-reads the
// instance, and a cached read may return the same stale version again.
// Controllers pass their API reader.
func Uncached(c client.Client, reader client.Reader) client.Client {
	if reader == nil {
		return c
	}
	return uncached{Client: c, reader: reader}
}

type uncached struct {
	client.Client
	reader client.Reader
}

func (u uncached) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return u.reader.Get(ctx, key, obj, opts...)
}

func (u uncached) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return u.reader.List(ctx, list, opts...)
}

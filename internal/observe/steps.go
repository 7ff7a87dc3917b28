package observe

import (
	"sort"
	"time"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Operation kinds as they appear in logs, spans and metric labels: the
// status.operation kinds.
const (
	kindUpgrade   = string(odoov1alpha2.OperationUpgrade)
	kindBackup    = string(odoov1alpha2.OperationBackup)
	kindRestore   = string(odoov1alpha2.OperationRestore)
	kindMigration = string(odoov1alpha2.OperationFilestoreMigration)
)

// Results of operations that end without a result of their own.
const (
	// resultEnded: the operation's record went away (status.operation
	// released, the object deleted) without saying how it ended.
	resultEnded = "Ended"
	// resultSuperseded: a new run of the same kind replaced the record.
	resultSuperseded = "Superseded"
)

// progress is where one operation stands according to one object's status.
type progress struct {
	// kind of operation (Upgrade, Backup, Restore, FilestoreMigration, ...).
	kind string
	// namespace and instance the operation runs on.
	namespace, instance string
	// object is the object whose status drives the operation: the instance,
	// or the OdooBackupJob / OdooRestoreJob.
	object string
	// id tells one run from the next (a start time, a UID).
	id string
	// step is the current step ("" when the status names none yet).
	step string
	// started is when the operation started; zero when unknown.
	started time.Time
	// done is true once the status says the operation ended; result says how
	// and ended when, if the status records it.
	done   bool
	result string
	ended  time.Time
}

func (p progress) key() string { return p.kind + "/" + p.namespace + "/" + p.object }

// instanceProgress reads the operations an instance's own status drives:
// the module upgrade (status.upgrade), the filestore migration
// (status.filestore.migration) and the other kinds of status.operation
// (init, module install, staging refresh, database move). Backups and
// restores are read from their own objects, which say more.
func instanceProgress(inst *odoov1alpha2.OdooInstance) []progress {
	base := progress{namespace: inst.Namespace, instance: inst.Name, object: inst.Name}
	var out []progress
	st := &inst.Status
	if u := st.Upgrade; u != nil && u.StartTime != nil && u.Phase != "" {
		p := base
		p.kind, p.id, p.step, p.started = kindUpgrade, u.StartTime.UTC().Format(time.RFC3339Nano), string(u.Step), u.StartTime.Time
		if u.Phase == odoov1alpha2.UpgradeSuccess || u.Phase == odoov1alpha2.UpgradeFailed {
			p.done, p.result, p.ended = true, string(u.Phase), timeOf(u.CompletionTime)
			if p.step == string(odoov1alpha2.UpgradeStepDone) {
				p.step = ""
			}
		}
		out = append(out, p)
	}
	if f := st.Filestore; f != nil && f.Migration != nil && f.Migration.StartTime != nil {
		m := f.Migration
		p := base
		p.kind, p.id, p.step, p.started = kindMigration, m.StartTime.UTC().Format(time.RFC3339Nano), "Copy", m.StartTime.Time
		// The lock record names the migration's step (its decided action:
		// create-target, run-copy, wait-copy, swap, ...); "Copy" stands
		// for all of them when it does not.
		if op := st.Operation; op != nil && op.Kind == odoov1alpha2.OperationFilestoreMigration && op.Step != "" {
			p.step = op.Step
		}
		if m.Phase == odoov1alpha2.FilestoreMigrationFailed {
			p.done, p.result = true, string(odoov1alpha2.FilestoreMigrationFailed)
		}
		out = append(out, p)
	}
	if op := st.Operation; op != nil {
		switch op.Kind {
		case odoov1alpha2.OperationUpgrade, odoov1alpha2.OperationBackup, odoov1alpha2.OperationRestore, odoov1alpha2.OperationFilestoreMigration, "":
			// read from their richer records above and from the job objects
		default:
			p := base
			p.kind, p.id, p.step, p.started = string(op.Kind), op.Started.UTC().Format(time.RFC3339Nano), op.Step, op.Started.Time
			out = append(out, p)
		}
	}
	return out
}

// backupProgress reads an OdooBackupJob: its phases are its steps.
func backupProgress(b *odoov1alpha2.OdooBackupJob) progress {
	p := progress{
		kind: kindBackup, namespace: b.Namespace, instance: b.Spec.OdooInstanceRef.Name, object: b.Name,
		id: string(b.UID), step: string(phaseOr(b.Status.Phase)), started: b.CreationTimestamp.Time,
	}
	if b.Status.Phase.Finished() {
		p.done, p.result, p.ended, p.step = true, string(b.Status.Phase), timeOf(b.Status.CompletionTime), ""
	}
	return p
}

// restoreProgress reads an OdooRestoreJob: status.step is its step.
func restoreProgress(r *odoov1alpha2.OdooRestoreJob) progress {
	p := progress{
		kind: kindRestore, namespace: r.Namespace, instance: r.Spec.OdooInstanceRef.Name, object: r.Name,
		id: string(r.UID), step: string(r.Status.Step), started: r.CreationTimestamp.Time,
	}
	if p.step == "" {
		p.step = string(phaseOr(r.Status.Phase))
	}
	if r.Status.Phase.Finished() {
		p.done, p.result, p.ended = true, string(r.Status.Phase), timeOf(r.Status.CompletionTime)
		if p.step == string(odoov1alpha2.RestoreStepDone) || p.step == string(r.Status.Phase) {
			p.step = ""
		}
	}
	return p
}

// eventType is what happened to an operation.
type eventType int

const (
	opStarted eventType = iota
	stepStarted
	stepFinished
	opFinished
)

// event is one thing worth a log line, a span or a metric.
type event struct {
	typ eventType
	// p is the operation as last seen.
	p progress
	// step is the step the event is about (stepStarted, stepFinished).
	step string
	// start and end bound a finished step or operation.
	start, end time.Time
	// result of a finished operation.
	result string
}

func (e event) duration() time.Duration { return e.end.Sub(e.start) }

// tracked is what the tracker remembers of an operation in progress.
type tracked struct {
	p         progress
	stepSince time.Time
}

// tracker turns successive snapshots of objects' statuses into events. It
// holds only operations in progress; the truth stays in the statuses, so an
// operator restart loses nothing but the start times of the steps running
// at that moment (their spans then start when the new operator first saw
// them).
type tracker struct {
	ops map[string]*tracked
	// byObject lists the keys each object last reported, to notice an
	// operation whose record vanished.
	byObject map[string][]string
	// finished is the id of the last run that ended, per key: a status
	// keeps saying "Failed" long after the upgrade ended, and each later
	// update must not report it again.
	finished map[string]string
}

func newTracker() *tracker {
	return &tracker{ops: map[string]*tracked{}, byObject: map[string][]string{}, finished: map[string]string{}}
}

// observe compares an object's snapshots with what was tracked. initial is
// true for the informer's initial list: operations found in progress are
// adopted silently (no "started" events for work started before this
// process), and operations already finished are ignored.
func (t *tracker) observe(now time.Time, object string, snaps []progress, initial bool) []event {
	var out []event
	seen := map[string]bool{}
	for _, p := range snaps {
		k := p.key()
		seen[k] = true
		cur := t.ops[k]
		if cur != nil && cur.p.id != p.id {
			out = append(out, t.finish(k, now, time.Time{}, resultSuperseded)...)
			cur = nil
		}
		if cur == nil {
			if p.done {
				if t.finished[k] == p.id {
					continue
				}
				t.finished[k] = p.id
				if !initial {
					start := p.started
					if start.IsZero() {
						start = now
					}
					out = append(out, event{typ: opStarted, p: p, start: start},
						event{typ: opFinished, p: p, start: start, end: endOr(p.ended, now), result: p.result})
				}
				continue
			}
			since := now
			if !initial && !p.started.IsZero() {
				since = p.started
			}
			t.ops[k] = &tracked{p: p, stepSince: since}
			if !initial {
				out = append(out, event{typ: opStarted, p: p, start: startOr(p.started, now)})
				if p.step != "" {
					out = append(out, event{typ: stepStarted, p: p, step: p.step, start: since})
				}
			}
			continue
		}
		if p.done {
			cur.p.started, cur.p.result = p.started, p.result
			out = append(out, t.finish(k, now, p.ended, p.result)...)
			continue
		}
		if p.step != cur.p.step {
			if cur.p.step != "" {
				out = append(out, event{typ: stepFinished, p: p, step: cur.p.step, start: cur.stepSince, end: now})
			}
			cur.stepSince = now
			if p.step != "" {
				out = append(out, event{typ: stepStarted, p: p, step: p.step, start: now})
			}
		}
		cur.p = p
	}
	for _, k := range t.byObject[object] {
		if !seen[k] && t.ops[k] != nil {
			out = append(out, t.finish(k, now, time.Time{}, resultEnded)...)
		}
	}
	if len(snaps) == 0 {
		for _, k := range t.byObject[object] {
			delete(t.finished, k)
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		delete(t.byObject, object)
	} else {
		t.byObject[object] = keys
	}
	return out
}

// forget drops an object that was deleted: its operations in progress end.
func (t *tracker) forget(now time.Time, object string) []event {
	return t.observe(now, object, nil, false)
}

// finish ends a tracked operation: its running step, then itself.
func (t *tracker) finish(k string, now, ended time.Time, result string) []event {
	cur := t.ops[k]
	delete(t.ops, k)
	t.finished[k] = cur.p.id
	end := endOr(ended, now)
	var out []event
	if cur.p.step != "" {
		stepEnd := end
		if stepEnd.Before(cur.stepSince) {
			stepEnd = cur.stepSince
		}
		out = append(out, event{typ: stepFinished, p: cur.p, step: cur.p.step, start: cur.stepSince, end: stepEnd})
	}
	start := cur.p.started
	if start.IsZero() {
		start = cur.stepSince
	}
	return append(out, event{typ: opFinished, p: cur.p, start: start, end: end, result: result})
}

func endOr(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

func startOr(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

package operation_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// TestCompatibleEveryPair: the verdict of every (held, wanted) pair of
// kinds, written out row by row (columns in operation.Kinds' order: Init,
// Upgrade, ModuleInstall, FilestoreMigration, Backup, Restore,
// StagingRefresh, DatabaseMove; T run together, W wait, R refuse).
func TestCompatibleEveryPair(t *testing.T) {
	table := map[odoov1alpha2.OperationKind]string{
		"":                                       "TTTTTTTT", // nothing held: everything runs
		odoov1alpha2.OperationInit:               "WWWWWWWW", // all wait for the database to exist
		odoov1alpha2.OperationUpgrade:            "RWWWWWWW", // a restore waits for the upgrade
		odoov1alpha2.OperationModuleInstall:      "RWWWWWWW",
		odoov1alpha2.OperationFilestoreMigration: "RWWWWWWW",
		odoov1alpha2.OperationBackup:             "RWWWWWWW", // the upgrade waits for a backup
		odoov1alpha2.OperationRestore:            "RWWWWWWW", // an upgrade, a backup, a second restore wait
		odoov1alpha2.OperationStagingRefresh:     "RWWWWWWW",
		odoov1alpha2.OperationDatabaseMove:       "RWWWWWWW",
	}
	if len(table) != len(operation.Kinds)+1 {
		t.Fatalf("the table has %d rows, want one per kind and one for nothing held (%d)", len(table), len(operation.Kinds)+1)
	}
	want := map[byte]operation.Verdict{'T': operation.RunTogether, 'W': operation.Wait, 'R': operation.Refuse}
	pairs := 0
	for held, row := range table {
		if len(row) != len(operation.Kinds) {
			t.Fatalf("row %q has %d columns, want %d", held, len(row), len(operation.Kinds))
		}
		for i, wanted := range operation.Kinds {
			pairs++
			if got := operation.Compatible(held, wanted); got != want[row[i]] {
				t.Errorf("Compatible(held %q, wanted %q) = %s, want %s", held, wanted, got, want[row[i]])
			}
		}
	}
	if pairs != 72 {
		t.Errorf("checked %d pairs, want 72", pairs)
	}
}

func initialised(mods ...func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns"}}
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Name: "shop", Initialized: true}
	for _, m := range mods {
		m(inst)
	}
	return inst
}

func held(kind odoov1alpha2.OperationKind, name, step string) func(*odoov1alpha2.OdooInstance) {
	return func(inst *odoov1alpha2.OdooInstance) {
		inst.Status.Operation = &odoov1alpha2.OperationStatus{Kind: kind, Name: name, Step: step}
	}
}

func upgrading(step odoov1alpha2.UpgradeStep, restorePoint string) func(*odoov1alpha2.OdooInstance) {
	return func(inst *odoov1alpha2.OdooInstance) {
		inst.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Step: step, RestorePointBackup: restorePoint}
	}
}

// heldByOld is the restore-hold annotation an operator version older than
// the lock set for its restore "old".
func heldByOld(inst *odoov1alpha2.OdooInstance) {
	inst.Annotations = map[string]string{odoov1alpha2.AnnotationRestoreHold: "old"}
}

// TestCheck: the decision on a whole instance: the record, re-entry, the
// upgrade's restore point, and the state older operator versions wrote.
func TestCheck(t *testing.T) {
	const (
		backup  = odoov1alpha2.OperationBackup
		restore = odoov1alpha2.OperationRestore
		upg     = odoov1alpha2.OperationUpgrade
		initK   = odoov1alpha2.OperationInit
		migrate = odoov1alpha2.OperationFilestoreMigration
	)
	copying := func(inst *odoov1alpha2.OdooInstance) {
		inst.Status.Filestore = &odoov1alpha2.FilestoreStatus{Migration: &odoov1alpha2.FilestoreMigration{Phase: odoov1alpha2.FilestoreMigrationCopying}}
	}
	tests := []struct {
		name     string
		inst     *odoov1alpha2.OdooInstance
		kind     odoov1alpha2.OperationKind
		op       string
		verdict  operation.Verdict
		message  string
		recorded bool
	}{
		{name: "free: a backup runs", inst: initialised(), kind: backup, op: "b1"},
		{name: "re-entrant: the holder finds its record", inst: initialised(held(restore, "r1", "Load")), kind: restore, op: "r1", recorded: true},
		{name: "same kind, other name: a second restore waits", inst: initialised(held(restore, "r1", "Load")), kind: restore, op: "r2",
			verdict: operation.Wait, message: "waiting for the restore r1 to end"},
		{name: "an upgrade waits for a restore", inst: initialised(held(restore, "r1", "Swap")), kind: upg, op: "shop",
			verdict: operation.Wait, message: "waiting for the restore r1 to end"},
		{name: "a restore waits for an upgrade", inst: initialised(held(upg, "shop", "Upgrade"), upgrading(odoov1alpha2.UpgradeStepUpgrade, "")), kind: restore, op: "r1",
			verdict: operation.Wait, message: "waiting for the instance's upgrade to end (step Upgrade)"},
		{name: "a backup waits for an upgrade", inst: initialised(held(upg, "shop", "Upgrade"), upgrading(odoov1alpha2.UpgradeStepUpgrade, "shop-pre-upgrade")), kind: backup, op: "manual",
			verdict: operation.Wait, message: "waiting for the instance's upgrade to end (step Upgrade)"},
		{name: "the upgrade's restore point runs inside the upgrade", inst: initialised(held(upg, "shop", "RestorePoint"), upgrading(odoov1alpha2.UpgradeStepRestorePoint, "shop-pre-upgrade")),
			kind: backup, op: "shop-pre-upgrade"},
		{name: "the upgrade waits for a backup", inst: initialised(held(backup, "nightly", "")), kind: upg, op: "shop",
			verdict: operation.Wait, message: "waiting for the backup nightly of the instance to end"},
		{name: "a backup waits for a migration", inst: initialised(held(migrate, "shop", "")), kind: backup, op: "b1",
			verdict: operation.Wait, message: "waiting for the instance's filestore migration to end"},
		{name: "init is refused while a restore holds the database", inst: initialised(held(restore, "r1", "Swap")), kind: initK, op: "shop",
			verdict: operation.Refuse, message: "Init refused: the instance's database is in use (status.operation: Restore r1)"},
		{name: "not initialised: a backup waits for init", inst: &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, kind: backup, op: "b1",
			verdict: operation.Wait, message: "waiting for the instance's database to be initialised"},
		{name: "not initialised: its own init runs", inst: &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, kind: initK, op: "shop"},
		{name: "older operator: the restore-hold annotation holds", inst: initialised(heldByOld), kind: backup, op: "b1",
			verdict: operation.Wait, message: "waiting for the restore old to end"},
		{name: "older operator: its restore goes on", inst: initialised(heldByOld), kind: restore, op: "old"},
		{name: "older operator: an upgrade in flight without record holds", inst: initialised(upgrading(odoov1alpha2.UpgradeStepUpgrade, "")), kind: restore, op: "r1",
			verdict: operation.Wait, message: "waiting for the instance's upgrade to end (step Upgrade)"},
		{name: "older operator: the upgrade in flight takes its record", inst: initialised(upgrading(odoov1alpha2.UpgradeStepUpgrade, "")), kind: upg, op: "shop"},
		{name: "older operator: a copying migration holds", inst: initialised(copying), kind: upg, op: "shop",
			verdict: operation.Wait, message: "waiting for the instance's filestore migration to end"},
		{name: "a staging refresh hands the lock to its own restore", inst: initialised(held(odoov1alpha2.OperationStagingRefresh, "refresh-1", "Restore")),
			kind: restore, op: "refresh-1-restore"},
		{name: "another restore waits for a staging refresh", inst: initialised(held(odoov1alpha2.OperationStagingRefresh, "refresh-1", "Restore")),
			kind: restore, op: "refresh-2-restore", verdict: operation.Wait, message: "waiting for the operation StagingRefresh refresh-1 on the instance to end"},
		{name: "a backup waits for a staging refresh", inst: initialised(held(odoov1alpha2.OperationStagingRefresh, "refresh-1", "Backup")),
			kind: backup, op: "refresh-1-restore", verdict: operation.Wait, message: "waiting for the operation StagingRefresh refresh-1 on the instance to end"},
		{name: "a record and the annotation: both must allow", inst: initialised(held(backup, "b1", ""), heldByOld), kind: backup, op: "b1",
			verdict: operation.Wait, message: "waiting for the restore old to end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operation.Check(tt.inst, tt.kind, tt.op)
			if d.Verdict != tt.verdict || !strings.HasPrefix(d.Message, tt.message) || (tt.verdict != operation.Refuse && d.Message != tt.message) {
				t.Errorf("Check = %s %q, want %s %q", d.Verdict, d.Message, tt.verdict, tt.message)
			}
			if d.Go() != (tt.verdict == operation.RunTogether) {
				t.Errorf("Go() = %v with verdict %s", d.Go(), d.Verdict)
			}
			if d.Recorded != tt.recorded {
				t.Errorf("Recorded = %v, want %v", d.Recorded, tt.recorded)
			}
		})
	}
}

// TestTiersHeld: web and cron are held from a restore's Stop step to its
// Start step, and by the annotation of older operator versions.
func TestTiersHeld(t *testing.T) {
	for _, tt := range []struct {
		name string
		inst *odoov1alpha2.OdooInstance
		want string
	}{
		{"nothing", initialised(), ""},
		{"restore loading", initialised(held(odoov1alpha2.OperationRestore, "r1", "Load")), ""},
		{"restore neutralizing", initialised(held(odoov1alpha2.OperationRestore, "r1", "Neutralize")), ""},
		{"restore stopping", initialised(held(odoov1alpha2.OperationRestore, "r1", "Stop")), "r1"},
		{"restore swapping", initialised(held(odoov1alpha2.OperationRestore, "r1", "Swap")), "r1"},
		{"restore moving the filestore", initialised(held(odoov1alpha2.OperationRestore, "r1", "Filestore")), "r1"},
		{"restore starting", initialised(held(odoov1alpha2.OperationRestore, "r1", "Start")), ""},
		{"a backup", initialised(held(odoov1alpha2.OperationBackup, "b1", "Stop")), ""},
		{"annotation", initialised(heldByOld), "old"},
	} {
		if got := operation.TiersHeld(tt.inst); got != tt.want {
			t.Errorf("%s: TiersHeld = %q, want %q", tt.name, got, tt.want)
		}
	}
}

package odooinstance

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/modules"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// DefaultModulesInterval is how often status.modules is refreshed when
// nothing else asks for it (--modules-interval).
const DefaultModulesInterval = 10 * time.Minute

// reconcileModules refreshes status.modules and status.database.series from
// ir_module_module, read as the instance's own role (never the cluster's
// admin: the tenant owns the table and its triggers), when it is due: once
// the database is initialised, after an upgrade or install ended, and every
// ModulesInterval. Nothing is read while an upgrade or another operation
// holds the database: the counts would be of a state in between.
func (r *Reconciler) reconcileModules(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if !s.initialized || s.dbProblem || s.dbName == "" || upgrade.InFlight(inst.Status.Upgrade) || inst.Status.Operation != nil {
		return ctrl.Result{}, nil
	}
	interval := r.ModulesInterval
	if interval <= 0 {
		interval = DefaultModulesInterval
	}
	now := metav1.Now()
	if wait := modulesDueIn(inst, interval, now.Time); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	periodic := !upgradeEndedSinceRead(inst)
	if wait := r.moduleChecks.wait(inst.UID, now.Time); periodic && wait > 0 {
		// Read since status.modules was written, and found the same.
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if wait := r.moduleReads.wait(inst.UID, now.Time); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	var mods []dbtools.Module
	err := r.Databases.WithTenantDatabase(ctx, s.cluster, s.tenantLogin(), s.dbName, func(conn *pgx.Conn) error {
		var err error
		mods, err = dbtools.ReadModules(ctx, conn)
		return err
	})
	if errors.Is(err, dbtools.ErrNoModuleTable) {
		// Reported by the database checks; nothing to summarise.
		r.moduleReads.notBefore(inst.UID, now.Add(interval))
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	if err != nil {
		// Status only: an unreachable database is retried on the interval,
		// never turned into an error of the instance.
		log.FromContext(ctx).V(1).Info("reading the modules", "error", err.Error())
		r.moduleReads.notBefore(inst.UID, now.Add(requeueShort))
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}
	r.moduleReads.forget(inst.UID)
	st := modules.Summarize(mods, declaredModules(inst), nil, now)
	st.Missing = modules.Missing(mods, installDeclared(inst))
	if prev := inst.Status.Modules; prev != nil {
		st.LastInstalled = prev.LastInstalled
	}
	if up := inst.Status.Upgrade; installRunEnded(up, inst.Status.Modules) {
		// The modules the install run added, dependencies included: the
		// snapshot taken before it against the database now.
		before, err := r.readSnapshot(ctx, inst, up)
		if err != nil {
			log.FromContext(ctx).V(1).Info("reading the module snapshot of the install run", "error", err.Error())
		} else {
			st.LastInstalled = clipNames(dbtools.CompareModules(before, mods).Installed, 256)
		}
	}
	series := modules.Series(mods)
	if periodic && sameModules(inst.Status.Modules, st) && inst.Status.Database != nil && inst.Status.Database.Series == series {
		// The periodic re-read found what status says: nothing is written,
		// so a steady state costs no API write per instance and interval
		// (observedTime stays the time of the read that first saw it).
		r.moduleChecks.notBefore(inst.UID, now.Add(interval))
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	r.moduleChecks.forget(inst.UID)
	inst.Status.Modules = st
	if inst.Status.Database == nil {
		inst.Status.Database = &odoov1alpha2.DatabaseStatus{}
	}
	inst.Status.Database.Series = series
	return ctrl.Result{RequeueAfter: interval}, nil
}

// upgradeEndedSinceRead: an upgrade or install run ended after
// status.modules was last written (or it never was), so the modules are
// read and written now, whatever an earlier re-read found.
func upgradeEndedSinceRead(inst *odoov1alpha2.OdooInstance) bool {
	st := inst.Status.Modules
	if st == nil || st.ObservedTime == nil {
		return true
	}
	up := inst.Status.Upgrade
	return up != nil && up.CompletionTime != nil && !up.CompletionTime.Before(st.ObservedTime)
}

// sameModules: the summaries differ at most in when they were read.
func sameModules(prev, next *odoov1alpha2.ModulesStatus) bool {
	if prev == nil || next == nil {
		return false
	}
	a, b := *prev, *next
	a.ObservedTime, b.ObservedTime = nil, nil
	return equality.Semantic.DeepEqual(a, b)
}

// moduleReadBackoff holds back the next read of an instance's modules when
// status.modules does not record the last one: a read that failed (no
// module table, the database unreachable), or one that found what status
// already says. Unrelated events (a label, a pod) reconcile often, and each
// read opens a connection as the tenant.
type moduleReadBackoff struct {
	next sync.Map // types.UID -> time.Time
}

// wait is how long until the instance's modules may be read again.
func (b *moduleReadBackoff) wait(uid types.UID, now time.Time) time.Duration {
	v, ok := b.next.Load(uid)
	if !ok {
		return 0
	}
	return v.(time.Time).Sub(now)
}

func (b *moduleReadBackoff) notBefore(uid types.UID, t time.Time) { b.next.Store(uid, t) }

func (b *moduleReadBackoff) forget(uid types.UID) { b.next.Delete(uid) }

// modulesDueIn is how long until status.modules should be read again; 0 or
// less means now.
func modulesDueIn(inst *odoov1alpha2.OdooInstance, interval time.Duration, now time.Time) time.Duration {
	st := inst.Status.Modules
	if st == nil || st.ObservedTime == nil {
		return 0
	}
	if up := inst.Status.Upgrade; up != nil && up.CompletionTime != nil && !up.CompletionTime.Before(st.ObservedTime) {
		return 0
	}
	return st.ObservedTime.Add(interval).Sub(now)
}

// declaredModules are the modules the spec asks for: spec.init.modules,
// spec.modules.install and autoInstall.
func declaredModules(inst *odoov1alpha2.OdooInstance) []string {
	return append(slices.Clone(inst.Spec.Init.Modules), installDeclared(inst)...)
}

// installDeclared are spec.modules.install and autoInstall, merged.
func installDeclared(inst *odoov1alpha2.OdooInstance) []string {
	return append(slices.Clone(inst.Spec.Modules.Install), inst.Spec.Modules.AutoInstall...)
}

// installRunEnded: the last upgrade was an install run that ended after
// status.modules was last read.
func installRunEnded(up *odoov1alpha2.UpgradeStatus, prev *odoov1alpha2.ModulesStatus) bool {
	if up == nil || up.Trigger != odoov1alpha2.UpgradeTriggerModules || up.CompletionTime == nil {
		return false
	}
	return prev == nil || prev.ObservedTime == nil || !up.CompletionTime.Before(prev.ObservedTime)
}

// modulesFresh: status.modules was read after the last upgrade ended, so
// its missing list reflects what that upgrade did.
func modulesFresh(inst *odoov1alpha2.OdooInstance) bool {
	st := inst.Status.Modules
	if st == nil || st.ObservedTime == nil {
		return false
	}
	up := inst.Status.Upgrade
	return up == nil || up.CompletionTime == nil || up.CompletionTime.Before(st.ObservedTime)
}

func clipNames(names []string, n int) []string {
	if len(names) > n {
		return names[:n]
	}
	return names
}

package odooinstance

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbmove"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// initState is where the init Job of this reconcile stands: the operations'
// one Job state.
type initState = datajob.Outcome

const (
	initNone      = datajob.Absent
	initRunning   = datajob.Running
	initSucceeded = datajob.Succeeded
	initFailed    = datajob.Failed
)

// scope holds what one reconcile read and decided, shared by its phases.
type scope struct {
	// instance is the object being reconciled; its status is rewritten at the end.
	instance *odoov1alpha2.OdooInstance
	// before is the instance as read, to patch the status against.
	before *odoov1alpha2.OdooInstance

	// backups are the instance's OdooBackupJobs, when backupsObserved.
	backups         []odoov1alpha2.OdooBackupJob
	backupsObserved bool

	// adminPassword is admin_passwd, from the spec or its Secret.
	adminPassword string
	// dbUser and dbPassword are the instance's PostgreSQL credentials.
	dbUser, dbPassword string
	// confHash is the hash of the rendered odoo.conf.
	confHash string
	// pvc is the filestore claim as it exists (nil before creation).
	pvc *corev1.PersistentVolumeClaim
	// web and cron are the Deployments as the server last returned them.
	web, cron *appsv1.Deployment
	// currentWeb and currentCron are the Deployments as this reconcile first
	// read them from the cache (empty when absent), shared by the phases
	// that look before the Workloads phase writes.
	currentWeb, currentCron *appsv1.Deployment

	// cluster is the PostgreSQL cluster of the instance.
	cluster postgres.Cluster
	// legacyConnection is true when cluster comes from the operator's flags.
	legacyConnection bool
	// dbName is the database in use.
	dbName string
	// dbProblem is set when the database cannot be used right now.
	dbProblem bool
	// databaseMissing is set when an initialised database vanished.
	databaseMissing bool
	// reinitialize asks for a new init run of a recreated database.
	reinitialize bool
	// initialized is true once the init Job succeeded (now or before).
	initialized bool
	// initState and initJobName describe this reconcile's init Job.
	initState   initState
	initJobName string
	// initRequest is a legacy OdooInitJob asking to initialise this instance.
	initRequest *odoov1alpha2.OdooInitJob

	// serving is what web and cron run, decided by the upgrade phase.
	serving upgrade.Serving
	// upgradeRequest is a due legacy OdooUpgradeJob, nil when none.
	upgradeRequest *upgrade.Request
	// health is the log sampler's picture, nil when not sampled.
	health *logwatch.Health
	// rollback is a rollback decided by this reconcile; clearRollback ends
	// the one in force (spec.image changed).
	rollback      *odoov1alpha2.RollbackStatus
	clearRollback bool
	// rolloutTime is set when this reconcile gave web a new image.
	rolloutTime *metav1.Time

	// stalled is set when the spec cannot be reconciled until the user fixes it.
	stalled *problem
	// degraded are problems that keep the instance from being Ready.
	degraded []problem
	// progressing is work in progress that keeps the instance from being
	// Ready without anything being wrong (a filestore migration).
	progressing *problem
	// staleStatus is set when the cache's status is older than the stored
	// one: the reconcile stops without patching the status.
	staleStatus bool
	// stop ends the reconcile after the current phase.
	stop bool
}

// hold is true while web and cron must stay at 0 replicas: until the database
// is initialised, while the filestore is copied, while an OdooRestoreJob
// swaps the database (the instance's lock, status.operation, at the
// restore's Stop, Swap or Filestore step; or the annotation
// bemade.org/restore-hold, which operator versions older than the lock set
// and a restore failed past its swap leaves for the user: see
// operation.TiersHeld), while the database moves to another cluster
// (dbmove.Moving) and while the instance is being deleted. The
// migration is read from status, so a reconcile that failed before the
// filestore phase decided anything still holds the tiers.
func (s *scope) hold() bool {
	return !s.initialized || migrating(s.instance) || dbmove.Moving(s.instance.Status.Database) ||
		operation.TiersHeld(s.instance) != "" || !s.instance.DeletionTimestamp.IsZero()
}

// migrating is true while a filestore migration copies.
func migrating(inst *odoov1alpha2.OdooInstance) bool {
	f := inst.Status.Filestore
	return f != nil && f.Migration != nil && f.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying
}

// databaseState is what the status says about the database, nil when the
// database phases did not run.
func (s *scope) databaseState() *databaseState {
	if s.dbName == "" {
		return nil
	}
	db := &databaseState{
		cluster: s.cluster.Name, name: s.dbName, initialized: s.initialized,
		init: s.initState, initJob: s.initJobName, problem: s.dbProblem, legacy: s.legacyConnection,
	}
	if s.legacyConnection {
		db.legacyMessage = "no clusters Secret found: PostgreSQL is reached through the operator's --db-host; " +
			"create the clusters Secret (key clusters.yaml) in the operator's namespace to migrate"
	}
	return db
}

// fallbackImages are the images web and cron keep when the upgrade phase could
// not decide: those of an upgrade in flight or failed, else those recorded as
// running, else the spec's.
func (s *scope) fallbackImages() (web, cron string) {
	inst := s.instance
	if st := inst.Status.Upgrade; st != nil && (upgrade.InFlight(st) || st.Phase == odoov1alpha2.UpgradeFailed) && st.FromImage != "" {
		return st.FromImage, st.FromCronImage
	}
	web, cron = inst.Status.Deployment.CurrentImage, inst.Status.Deployment.CronImage
	if web == "" {
		web = inst.Spec.Image
	}
	if cron == "" {
		cron = inst.CronImage()
	}
	return web, cron
}

// addUpgradeProblems reports an upgrade in flight as progress, and a failed
// upgrade whose image the spec still asks for as Degraded: the old image
// serves until the spec changes or bemade.org/upgrade-now is bumped.
func (s *scope) addUpgradeProblems() {
	inst := s.instance
	st := inst.Status.Upgrade
	switch {
	case upgrade.InFlight(st) && s.progressing == nil:
		reason := odoov1alpha2.ReasonUpgrading
		if st.Step == odoov1alpha2.UpgradeStepRestore {
			reason = odoov1alpha2.ReasonRestoring
		}
		s.progressing = &problem{reason, st.Message}
	case inst.AutoUpgradeEnabled() && upgrade.FailedFor(st, inst.Spec.Image, inst.CronImage()):
		s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonUpgradeFailed, st.Message +
			"; fix the image and change spec.image, or set the annotation " + odoov1alpha2.AnnotationUpgradeNow + " to a new value to retry"})
	}
}

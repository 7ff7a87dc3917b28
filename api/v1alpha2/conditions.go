package v1alpha2

// Condition types of an OdooInstance. Ready, Progressing, Degraded and Stalled
// follow kstatus, so generic tools (kubectl wait, Flux, Argo CD) understand them.
const (
	// ConditionReady is True when web and cron run the desired image and
	// configuration with all requested replicas available.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the operator works towards the spec.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when something the operator cannot fix alone
	// keeps the instance from being Ready; it retries with backoff.
	ConditionDegraded = "Degraded"
	// ConditionStalled is True when the spec cannot be reconciled until the
	// user changes it; the operator does not retry.
	ConditionStalled = "Stalled"
	// ConditionWebAvailable is True when the web Deployment has all replicas
	// available on the desired template.
	ConditionWebAvailable = "WebAvailable"
	// ConditionCronAvailable is True when the cron Deployment has all replicas
	// available on the desired template.
	ConditionCronAvailable = "CronAvailable"
	// ConditionDatabaseReady is True when the instance's role and database
	// exist on its PostgreSQL cluster and Odoo's base modules are installed.
	ConditionDatabaseReady = "DatabaseReady"
	// ConditionLegacyDatabaseConnection is True while the operator reaches
	// PostgreSQL through its --db-host flags because no clusters Secret exists.
	ConditionLegacyDatabaseConnection = "LegacyDatabaseConnection"
	// ConditionFilestoreMigrated reports the last storage class migration of
	// the filestore: Unknown while it copies, True once the instance uses the
	// new claim, False when it failed (the instance stays on its old claim).
	// Absent when the filestore was never migrated.
	ConditionFilestoreMigrated = "FilestoreMigrated"
	// ConditionUpgradeSucceeded reports the last module upgrade: Unknown while
	// it runs, True when it succeeded, False when it failed (the old image
	// keeps serving). Absent until the first upgrade.
	ConditionUpgradeSucceeded = "UpgradeSucceeded"
	// ConditionHealthy is True when the sampled Odoo logs show no error in the
	// window, False when they do (status.health lists them), Unknown while
	// nothing was sampled. Absent when log monitoring is off.
	ConditionHealthy = "Healthy"
	// ConditionRolledBack is True while an automatic rollback holds the
	// previous image because the new one misbehaved; cleared when spec.image
	// changes.
	ConditionRolledBack = "RolledBack"
	// ConditionBackupSucceeded reports the newest finished OdooBackupJob of
	// the instance: True when it completed (the message names it and its
	// time), False when it failed (with its message). Absent while no
	// OdooBackupJob of the instance has finished.
	ConditionBackupSucceeded = "BackupSucceeded"
)

// Condition reasons.
const (
	// ReasonAvailable means the instance serves with all replicas.
	ReasonAvailable = "Available"
	// ReasonRollingOut means a Deployment rolls out a new template.
	ReasonRollingOut = "RollingOut"
	// ReasonScaledToZero means the replicas were set to 0 on purpose.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonReconciling means the operator is applying the spec.
	ReasonReconciling = "Reconciling"
	// ReasonReconciled means the last reconcile applied the spec cleanly.
	ReasonReconciled = "Reconciled"
	// ReasonApplyFailed means writing a child object failed.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonProgressDeadlineExceeded means a Deployment stopped making progress.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonAdminPasswordSecretMissing means adminPasswordSecretRef points at a
	// missing Secret or key.
	ReasonAdminPasswordSecretMissing = "AdminPasswordSecretMissing"
	// ReasonAsExpected is the reason of a False negative-polarity condition.
	ReasonAsExpected = "AsExpected"
	// ReasonUnknownCluster means spec.database.cluster names no entry of the
	// clusters Secret.
	ReasonUnknownCluster = "UnknownCluster"
	// ReasonBackupScheduleInvalid means spec.backup.schedule is refused (not
	// cron, never fires, or closer than the administrator's minimum
	// interval): no scheduled backup is taken until it is fixed.
	ReasonBackupScheduleInvalid = "BackupScheduleInvalid"
	// ReasonClustersSecretInvalid means the clusters Secret cannot be parsed.
	ReasonClustersSecretInvalid = "ClustersSecretInvalid"
	// ReasonClustersSecretMissing means the legacy --db-host connection is used.
	ReasonClustersSecretMissing = "ClustersSecretMissing"
	// ReasonDatabaseUnreachable means PostgreSQL did not answer.
	ReasonDatabaseUnreachable = "DatabaseUnreachable"
	// ReasonDatabaseAuthenticationFailed means PostgreSQL refused the admin login.
	ReasonDatabaseAuthenticationFailed = "DatabaseAuthenticationFailed"
	// ReasonDatabaseError is any other PostgreSQL failure.
	ReasonDatabaseError = "DatabaseError"
	// ReasonInitializing means the init Job runs.
	ReasonInitializing = "Initializing"
	// ReasonInitFailed means the init Job failed.
	ReasonInitFailed = "InitFailed"
	// ReasonInitRefused means the init Job was not created: another
	// operation holds the instance's database lock (status.operation).
	ReasonInitRefused = "InitRefused"
	// ReasonDatabaseMissing means an initialised database disappeared.
	ReasonDatabaseMissing = "DatabaseMissing"
	// ReasonDatabaseReady means role and database exist and are initialised.
	ReasonDatabaseReady = "DatabaseReady"
	// ReasonDatabaseCredentialsRefused means the <name>-odoo-user Secret was
	// not created by the operator for this instance or names another role
	// than the instance's; it is never used.
	ReasonDatabaseCredentialsRefused = "DatabaseCredentialsRefused"
	// ReasonDatabaseConflict means the database exists and is not owned by
	// the instance's role (or the role is privileged): it is never taken over.
	ReasonDatabaseConflict = "DatabaseConflict"
	// ReasonDatabaseNameChanged means spec.database.name differs from the
	// database in use, which never changes.
	ReasonDatabaseNameChanged = "DatabaseNameChanged"
	// ReasonDeletionFailed means dropping the database or role failed.
	ReasonDeletionFailed = "DeletionFailed"
	// ReasonFilestoreMigrating means the filestore is being copied to a claim
	// of the new storage class; web and cron are stopped.
	ReasonFilestoreMigrating = "FilestoreMigrating"
	// ReasonFilestoreMigrated means the instance uses the new claim.
	ReasonFilestoreMigrated = "FilestoreMigrated"
	// ReasonFilestoreMigrationFailed means the copy failed; the old claim is
	// still in use.
	ReasonFilestoreMigrationFailed = "FilestoreMigrationFailed"
	// ReasonUpgrading means a module upgrade runs; web keeps serving the old image.
	ReasonUpgrading = "Upgrading"
	// ReasonUpgradeSucceeded means the last module upgrade succeeded.
	ReasonUpgradeSucceeded = "UpgradeSucceeded"
	// ReasonUpgradeFailed means the last module upgrade failed.
	ReasonUpgradeFailed = "UpgradeFailed"
	// ReasonUpgradeCancelled means spec.image changed before the upgrade Job
	// ran: the database was not touched.
	ReasonUpgradeCancelled = "UpgradeCancelled"
	// ReasonRestoring means the restore point of a failed upgrade is loaded.
	ReasonRestoring = "Restoring"
	// ReasonNoErrors means the sampled logs hold no error.
	ReasonNoErrors = "NoErrors"
	// ReasonErrorsLogged means the sampled logs hold errors.
	ReasonErrorsLogged = "ErrorsLogged"
	// ReasonNotSampled means no log sample exists yet.
	ReasonNotSampled = "NotSampled"
	// ReasonErrorRate means the error rate after a rollout passed
	// spec.rollback.errorThreshold.
	ReasonErrorRate = "ErrorRateExceeded"
	// ReasonCrashLooping means pods of the new image crash-loop.
	ReasonCrashLooping = "CrashLooping"
	// ReasonNotReady means pods of the new image stay unready.
	ReasonNotReady = "PodsNotReady"
	// ReasonBackupCompleted means the newest finished backup completed.
	ReasonBackupCompleted = "BackupCompleted"
	// ReasonBackupFailed means the newest finished backup failed.
	ReasonBackupFailed = "BackupFailed"
)

// Event reasons, emitted on transitions only.
const (
	// EventInstanceReady is emitted when the instance becomes Ready.
	EventInstanceReady = "InstanceReady"
	// EventNotificationRefused is emitted when spec.webhook.url points
	// where the operator's egress policy forbids (an internal address, or
	// a name resolving to one): nothing is sent there.
	EventNotificationRefused = "NotificationRefused"
	// EventNotificationFailed is emitted when a notification could not be
	// delivered (after its retries), with the reason.
	EventNotificationFailed = "NotificationFailed"
	// EventInstanceNotReady is emitted when a Ready instance stops being Ready.
	EventInstanceNotReady = "InstanceNotReady"
	// EventDeploymentUpdated is emitted when a new image is rolled out.
	EventDeploymentUpdated = "DeploymentUpdated"
	// EventReconcileFailed is emitted when the instance becomes Degraded or Stalled.
	EventReconcileFailed = "ReconcileFailed"
	// EventDatabaseCreated is emitted when the operator created role or database.
	EventDatabaseCreated = "DatabaseCreated"
	// EventDatabaseInitialized is emitted when the init Job succeeded.
	EventDatabaseInitialized = "DatabaseInitialized"
	// EventDatabaseRetained is emitted on deletion with deletionPolicy Retain.
	EventDatabaseRetained = "DatabaseRetained"
	// EventDatabaseDropped is emitted on deletion with deletionPolicy Delete.
	EventDatabaseDropped = "DatabaseDropped"
	// EventDatabaseMissing is emitted when an initialised database vanished.
	EventDatabaseMissing = "DatabaseMissing"
	// EventLegacyDatabaseConnection is emitted when no clusters Secret exists.
	EventLegacyDatabaseConnection = "LegacyDatabaseConnection"
	// EventFilestoreMigrationStarted is emitted when a storage class migration starts.
	EventFilestoreMigrationStarted = "FilestoreMigrationStarted"
	// EventFilestoreMigrationSucceeded is emitted when the instance switched to the new claim.
	EventFilestoreMigrationSucceeded = "FilestoreMigrationSucceeded"
	// EventFilestoreMigrationFailed is emitted when the copy failed.
	EventFilestoreMigrationFailed = "FilestoreMigrationFailed"
	// EventUpgradeStarted is emitted when a module upgrade starts.
	EventUpgradeStarted = "UpgradeStarted"
	// EventUpgradeSucceeded is emitted when a module upgrade succeeded.
	EventUpgradeSucceeded = "UpgradeSucceeded"
	// EventUpgradeFailed is emitted when a module upgrade failed.
	EventUpgradeFailed = "UpgradeFailed"
	// EventUpgradeCancelled is emitted when spec.image was changed back before
	// the upgrade Job ran.
	EventUpgradeCancelled = "UpgradeCancelled"
	// EventUpgradeRestored is emitted when the restore point of a failed
	// upgrade replaced the live database.
	EventUpgradeRestored = "UpgradeRestored"
	// EventRestoreNeutralized is emitted on an OdooRestoreJob when its
	// restored database was neutralized and checked.
	EventRestoreNeutralized = "RestoreNeutralized"
	// EventRestoreCompleted is emitted on an OdooRestoreJob that ended well.
	EventRestoreCompleted = "RestoreCompleted"
	// EventRestoreFailed is emitted on an OdooRestoreJob that failed.
	EventRestoreFailed = "RestoreFailed"
	// EventPreviousDatabaseDropped is emitted on an OdooRestoreJob when the
	// database it replaced was dropped (keepPreviousDatabase false).
	EventPreviousDatabaseDropped = "PreviousDatabaseDropped"
	// EventRolledBack is emitted when a misbehaving image was rolled back.
	EventRolledBack = "RolledBack"
	// EventOdooError is emitted for each new error signature in the logs,
	// rate-limited.
	EventOdooError = "OdooError"
	// EventOdooCritical is emitted for CRITICAL log lines. A reason of its
	// own: the events API folds events of one reason into a series that
	// keeps the first note, so a CRITICAL line must not share OdooError's.
	EventOdooCritical = "OdooCritical"
	// EventBackupFailed (Warning) is emitted on the instance when its newest
	// finished backup is a failed one, once per failed backup.
	EventBackupFailed = "BackupFailed"
	// EventBackupRecovered is emitted on the instance when a backup completes
	// after a failed one.
	EventBackupRecovered = "BackupRecovered"
	// EventBackupPruned is emitted on an OdooBackupJob marked for pruning
	// once its stored files are deleted, as the object is deleted.
	EventBackupPruned = "BackupPruned"
	// EventBackupPruneFailed (Warning) is emitted on the OdooBackupJob when
	// the Job deleting its stored files failed.
	EventBackupPruneFailed = "BackupPruneFailed"
)

// Annotations and labels the operator reads or writes.
const (
	// AnnotationConfigHash on pod templates holds a hash of odoo.conf, so a
	// configuration change rolls the pods.
	AnnotationConfigHash = "bemade.org/odoo-conf-hash"
	// AnnotationUpgradeNow triggers one module upgrade per new value.
	AnnotationUpgradeNow = "bemade.org/upgrade-now"
	// AnnotationRestoreHold names the OdooRestoreJob swapping the instance's
	// database: while it is set, web and cron are held at 0 replicas. The
	// restore controller sets it once the restored database is verified and
	// removes it after the swap and the filestore move.
	AnnotationRestoreHold = "bemade.org/restore-hold"
	// FinalizerDatabase holds an instance's deletion until its deletionPolicy
	// was carried out on the database and role.
	FinalizerDatabase = "bemade.org/database"
	// LabelInstance names the OdooInstance a child object belongs to.
	LabelInstance = "bemade.org/instance"
	// LabelApp is the legacy selector label (app=<name>, app=<name>-cron), kept
	// so Deployments created by the reference operator can be adopted: a
	// Deployment's selector is immutable.
	LabelApp = "app"
	// AnnotationMigrationImage on an OdooInstance replaces the image of the
	// filestore copy Job (default: spec.image). A test and debug hook: the e2e
	// tests set an image the sandbox fails, to exercise a failed migration.
	AnnotationMigrationImage = "bemade.org/migration-image"
	// LabelFilestore marks filestore claims: "previous" on the claim a
	// migration left, deleted once the instance is Ready on the new one.
	LabelFilestore = "bemade.org/filestore"
	// AnnotationPrune on an OdooBackupJob asks for its stored files to be
	// deleted, then the object. The schedule's retention sets it to
	// PruneRetention on the scheduled backups it drops; it is recorded before
	// anything is deleted. Deleting an OdooBackupJob by hand never deletes
	// its files.
	AnnotationPrune = "bemade.org/prune"
	// PruneRetention is the AnnotationPrune value of the retention.
	PruneRetention = "retention"
)

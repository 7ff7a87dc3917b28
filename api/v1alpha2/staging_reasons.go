package v1alpha2

// AnnotationRefreshStaging on a staging OdooInstance (one with
// spec.productionInstanceRef) asks for a refresh from production: each new
// value creates one OdooStagingRefreshJob <instance>-refresh-<hash of the
// value>; the same value never creates a second one.
const AnnotationRefreshStaging = "bemade.org/refresh-staging"

// AnnotationStagingInitialRefresh is set by the operator on a staging
// instance once its first refresh (on creation) was requested, with that
// refresh's name: the first refresh is never requested twice, even when the
// OdooStagingRefreshJob is deleted.
const AnnotationStagingInitialRefresh = "bemade.org/staging-initial-refresh"

// LabelStagingRefresh names, on an OdooBackupJob or OdooRestoreJob, the
// OdooStagingRefreshJob that created it.
const LabelStagingRefresh = "bemade.org/staging-refresh"

// Reasons of an OdooStagingRefreshJob's Ready condition and events.
const (
	// ReasonStagingRefreshWaiting: the refresh waits (the staging instance's
	// lock, an instance not found yet).
	ReasonStagingRefreshWaiting = "StagingRefreshWaiting"
	// ReasonStagingRefreshBackingUp: production's backup runs.
	ReasonStagingRefreshBackingUp = "StagingRefreshBackingUp"
	// ReasonStagingRefreshRestoring: the restore into staging runs.
	ReasonStagingRefreshRestoring = "StagingRefreshRestoring"
	// ReasonStagingRefreshCompleted: staging runs on the new copy.
	ReasonStagingRefreshCompleted = "StagingRefreshCompleted"
	// ReasonStagingRefreshRefused: the refresh asks for something never
	// done (a target that is not Staging, production itself, production's
	// database, another namespace, snapshot filestores); nothing was created.
	ReasonStagingRefreshRefused = "StagingRefreshRefused"
	// ReasonStagingRefreshFailed: the backup or the restore failed (its
	// message is repeated); staging keeps its previous database.
	ReasonStagingRefreshFailed = "StagingRefreshFailed"
	// EventStagingRefreshRequested: an OdooStagingRefreshJob was created for
	// a staging instance (on creation or for the annotation), on the instance.
	EventStagingRefreshRequested = "StagingRefreshRequested"
)

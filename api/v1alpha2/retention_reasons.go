package v1alpha2

// Reasons and events of what ordinary actions keep or remove: the claims on
// deletion, a backup that cannot start, the temporary database of a failed
// restore.
const (
	// ReasonDeletionWaiting means the deletion waits for something to go
	// (deletionPolicy Delete: the claims, until no pod mounts them).
	ReasonDeletionWaiting = "DeletionWaiting"
	// ReasonDeletionLeftovers means deletionPolicy Delete dropped the
	// instance's database but left databases it could not drop; the message
	// names them.
	ReasonDeletionLeftovers = "DeletionLeftovers"

	// EventClaimDeleted is emitted on deletion with deletionPolicy Delete for
	// each claim (filestore, restore points) deleted with its files.
	EventClaimDeleted = "ClaimDeleted"
	// EventDatabaseLeftover (Warning) is emitted on deletion with
	// deletionPolicy Delete for databases of the instance it did not drop.
	EventDatabaseLeftover = "DatabaseLeftover"
	// EventBackupNotStarted (Warning) is emitted on an OdooBackupJob whose
	// Job did not start within the start deadline; the Job is deleted.
	EventBackupNotStarted = "BackupNotStarted"
	// EventRestoreTargetDropped is emitted on a failed OdooRestoreJob when
	// the temporary database it had created was dropped.
	EventRestoreTargetDropped = "RestoreTargetDropped"
)

// AnnotationRetainedFilestore marks the filestore claim an instance used when
// it was deleted with deletionPolicy Retain; its value is the instance's
// name. An instance re-created under that name in that namespace takes
// that claim up again when it is not the default <name>-filestore-pvc (a
// storage class migration had moved the filestore).
const AnnotationRetainedFilestore = "bemade.org/retained-filestore"

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RestoreSourceType says where a restore reads its backup.
// +kubebuilder:validation:Enum=s3;odoo;pvc
type RestoreSourceType string

// Restore source types: s3 and odoo are the legacy API's, pvc is new.
const (
	RestoreSourceS3   RestoreSourceType = "s3"
	RestoreSourceOdoo RestoreSourceType = "odoo"
	RestoreSourcePVC  RestoreSourceType = "pvc"
)

// OdooSource is a live Odoo whose database manager produces the backup
// (POST /web/database/backup, zip with filestore), as its "Backup" button does.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.masterPassword) && has(self.masterPasswordSecretRef))",message="source.odoo: set masterPassword or masterPasswordSecretRef, not both (prefer the Secret reference)"
type OdooSource struct {
	// url is the source Odoo's base URL (http or https, without credentials),
	// for example https://erp.example.com. Its database manager must be
	// enabled (list_db).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// sourceDatabase is the database backed up on the source.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	SourceDatabase string `json:"sourceDatabase,omitempty"`

	// masterPassword of the source Odoo (legacy, plain text; prefer
	// masterPasswordSecretRef). The operator copies it into a Secret owned by
	// the OdooRestoreJob, so the Job gets it by secretKeyRef only.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	MasterPassword string `json:"masterPassword,omitempty"`

	// masterPasswordSecretRef selects the Secret key, in the OdooRestoreJob's
	// namespace, holding the source Odoo's master password (admin_passwd).
	// +optional
	MasterPasswordSecretRef *SecretKeyRef `json:"masterPasswordSecretRef,omitempty"`
}

// RestoreSource is the backup a restore loads.
//
// +kubebuilder:validation:XValidation:rule="self.type != 's3' || has(self.s3)",message="source.s3 is required when source.type is s3"
// +kubebuilder:validation:XValidation:rule="self.type != 'pvc' || has(self.pvc)",message="source.pvc{claimName, path} is required when source.type is pvc"
// +kubebuilder:validation:XValidation:rule="self.type != 'odoo' || has(self.odoo)",message="source.odoo is required when source.type is odoo"
type RestoreSource struct {
	// type of the source: s3, pvc or odoo (a live Odoo instance).
	// +required
	Type RestoreSourceType `json:"type"`

	// s3 is the backup in S3-compatible storage (type s3).
	// +optional
	S3 *S3Location `json:"s3,omitempty"`

	// pvc is the backup on a PersistentVolumeClaim (type pvc).
	// +optional
	PVC *PVCLocation `json:"pvc,omitempty"`

	// odoo is a live Odoo whose database is backed up and restored (type odoo).
	// +optional
	Odoo *OdooSource `json:"odoo,omitempty"`
}

// OdooRestoreJobSpec asks for the restore of a backup into an instance.
type OdooRestoreJobSpec struct {
	// odooInstanceRef is the instance whose database is replaced.
	// +required
	OdooInstanceRef OdooInstanceRef `json:"odooInstanceRef"`

	// source is the backup to restore.
	// +required
	Source RestoreSource `json:"source"`

	// format of the backup (legacy): the format is read from the archive
	// itself; sql is refused.
	// +optional
	// +kubebuilder:default=zip
	Format BackupFormat `json:"format,omitempty"`

	// neutralize runs `odoo neutralize` on the restored database before it
	// is swapped in (mail servers and crons disabled, the database marked
	// database.is_neutralized), then checks that no mail server is left
	// active: a restored copy must never send or fetch the source's mail.
	// Unset means true, unless the instance's spec.environment is
	// Production (a disaster-recovery restore keeps its mail and crons).
	// +optional
	Neutralize *bool `json:"neutralize,omitempty"`

	// keepPreviousDatabase keeps the database the restore replaced, renamed
	// <db>_pre_restore_<hash>, until someone drops it. false drops it once
	// the instance is Ready on the restored database; its filestore
	// directory filestore/<db>_pre_restore_<hash> stays either way.
	// +optional
	// +kubebuilder:default=true
	KeepPreviousDatabase *bool `json:"keepPreviousDatabase,omitempty"`

	// webhook is notified of phase changes (legacy; not sent by this operator).
	// +optional
	Webhook *JobWebhook `json:"webhook,omitempty"`
}

// RestoreStep is the step a restore is at. Each step is recorded before it
// is acted on, so a restore resumes after an operator restart.
// +kubebuilder:validation:Enum=Load;Neutralize;Stop;Swap;Filestore;Start;DropPrevious;Done
type RestoreStep string

// Restore steps.
const (
	// RestoreStepLoad: the target database is created and the restore Job
	// loads the backup into it.
	RestoreStepLoad RestoreStep = "Load"
	// RestoreStepNeutralize: a Job runs `odoo neutralize` on the target,
	// then the operator checks that no mail server is left active.
	RestoreStepNeutralize RestoreStep = "Neutralize"
	// RestoreStepStop: the instance's web and cron are held at 0.
	RestoreStepStop RestoreStep = "Stop"
	// RestoreStepSwap: the names are swapped, the live database kept aside.
	RestoreStepSwap RestoreStep = "Swap"
	// RestoreStepFilestore: a Job moves the restored filestore into the
	// live database's directory, the previous one kept aside.
	RestoreStepFilestore RestoreStep = "Filestore"
	// RestoreStepStart: web and cron are released.
	RestoreStepStart RestoreStep = "Start"
	// RestoreStepDropPrevious: once the instance is Ready on the restored
	// database, the kept previous database is dropped
	// (keepPreviousDatabase false only).
	RestoreStepDropPrevious RestoreStep = "DropPrevious"
	// RestoreStepDone: the restore ended (phase Completed or Failed).
	RestoreStepDone RestoreStep = "Done"
)

// OdooRestoreJobStatus reports a restore.
type OdooRestoreJobStatus struct {
	// OdooJobStatus holds the phase, Job, times and message of the restore.
	OdooJobStatus `json:",inline"`

	// step of the restore.
	// +optional
	Step RestoreStep `json:"step,omitempty"`

	// database is the instance's live database, recorded when the restore starts.
	// +optional
	Database string `json:"database,omitempty"`

	// targetDatabase is the new database the backup is loaded into; it takes
	// the live database's name once loaded and verified.
	// +optional
	TargetDatabase string `json:"targetDatabase,omitempty"`

	// keptDatabase is the name the previous live database is kept under
	// (dropped by the operator only with keepPreviousDatabase false).
	// +optional
	KeptDatabase string `json:"keptDatabase,omitempty"`

	// neutralized is true once `odoo neutralize` ran on the restored
	// database and no active mail server was found in it.
	// +optional
	Neutralized bool `json:"neutralized,omitempty"`

	// filestoreMoved is true once the backup's filestore replaced the live
	// one (the previous one kept in filestore/<keptDatabase>), false when
	// the backup held no filestore and the live one stayed in place; unset
	// before the Filestore step.
	// +optional
	FilestoreMoved *bool `json:"filestoreMoved,omitempty"`

	// previousDatabaseDropped is true once keptDatabase was dropped
	// (keepPreviousDatabase false).
	// +optional
	PreviousDatabaseDropped bool `json:"previousDatabaseDropped,omitempty"`
	// targetDatabaseDropped is true when the restore failed before the swap
	// and dropped targetDatabase, the temporary database it had created; a
	// failed restore whose targetDatabase is set and this false could not
	// drop it, and its message says so (drop it by hand). The live database
	// is never touched before the swap.
	// +optional
	TargetDatabaseDropped bool `json:"targetDatabaseDropped,omitempty"`

	// sha256 of the restored archive, checked before anything was loaded.
	// +optional
	SHA256 string `json:"sha256,omitempty"`
}

// OdooRestoreJob restores a backup into an OdooInstance: the backup is
// loaded into a new database, verified and (unless the instance is
// Production) neutralized, then, with web and cron briefly stopped, the
// names are swapped and the restored filestore moved into place; the
// previous database is kept aside unless keepPreviousDatabase is false.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=restore;restorejob,categories=odoo-all
// +kubebuilder:unservedversion
// +kubebuilder:deprecatedversion:warning="bemade.org/v1alpha1 OdooRestoreJob is deprecated; use bemade.org/v1alpha2"
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.odooInstanceRef.name`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source.type`
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.format`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooRestoreJob struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the requested restore.
	// +required
	Spec OdooRestoreJobSpec `json:"spec"`
	// status reports the restore.
	// +optional
	Status OdooRestoreJobStatus `json:"status,omitempty"`
}

// OdooRestoreJobList is a list of OdooRestoreJob.
//
// +kubebuilder:object:root=true
type OdooRestoreJobList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the restore jobs.
	Items []OdooRestoreJob `json:"items"`
}

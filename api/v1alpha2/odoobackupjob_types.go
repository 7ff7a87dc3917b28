package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackupFormat is the format of a backup archive.
// +kubebuilder:validation:Enum=zip;sql;dump
type BackupFormat string

// Backup formats, as in the legacy API.
const (
	// BackupFormatZip is Odoo's database manager format: dump.sql,
	// manifest.json and filestore/.
	BackupFormatZip BackupFormat = "zip"
	// BackupFormatSQL is a plain SQL dump. It is accepted for compatibility
	// with the legacy API, but refused at reconcile: use zip (which holds a
	// plain SQL dump) or dump.
	BackupFormatSQL BackupFormat = "sql"
	// BackupFormatDump is PostgreSQL's custom format (pg_restore).
	BackupFormatDump BackupFormat = "dump"
)

// S3CredentialsSecretRef names the Secret holding S3 credentials, under the
// keys accessKey and secretKey. They reach the Job's pod by secretKeyRef only.
type S3CredentialsSecretRef struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of the Secret. Only the object's own namespace is accepted
	// (a Secret of another namespace is refused at reconcile); the field
	// exists for compatibility with the legacy API.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// S3Location is an object in S3-compatible object storage.
type S3Location struct {
	// bucket holding the backup.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Bucket string `json:"bucket,omitempty"`

	// objectKey is the key (path) DIR/NAME.EXT of the backup. A restore reads
	// it as given; an OdooBackupJob stores its backup as
	// DIR/<namespace>/<instance>-<instance uid>/NAME-<backup uid>.EXT,
	// recorded in its status.objectKey. The sha256 is beside it as
	// <key>.sha256.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ObjectKey string `json:"objectKey,omitempty"`

	// endpoint of the S3 service: host:port or an http(s) URL.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Endpoint string `json:"endpoint,omitempty"`

	// region of the bucket, when the service needs one.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Region string `json:"region,omitempty"`

	// insecure talks plain HTTP to the endpoint.
	// +optional
	// +kubebuilder:default=false
	Insecure bool `json:"insecure,omitempty"`

	// s3CredentialsSecretRef names the Secret holding the credentials (keys
	// accessKey and secretKey), in the object's namespace.
	// +optional
	S3CredentialsSecretRef *S3CredentialsSecretRef `json:"s3CredentialsSecretRef,omitempty"`
}

// PVCLocation is a file on a PersistentVolumeClaim of the object's namespace.
type PVCLocation struct {
	// claimName is the PersistentVolumeClaim holding the backups.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ClaimName string `json:"claimName"`

	// path of the backup file DIR/NAME.EXT inside the claim, relative to its
	// root (empty means <object name>.<format>). A restore reads it as given;
	// an OdooBackupJob stores its backup as
	// DIR/<namespace>/<instance>-<instance uid>/NAME-<backup uid>.EXT,
	// recorded in its status.objectKey. The sha256 is beside it as
	// <key>.sha256.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`
	// +kubebuilder:validation:XValidation:rule="!self.split('/').exists(p, p == '..' || p == '.')",message="pvc.path must not contain '.' or '..' segments: give a path relative to the claim's root"
	Path string `json:"path,omitempty"`
}

// BackupDestination is where a backup is stored: S3 (bucket, objectKey,
// endpoint and s3CredentialsSecretRef) or a PersistentVolumeClaim (pvc).
//
// +kubebuilder:validation:XValidation:rule="has(self.pvc) || (has(self.bucket) && has(self.objectKey) && has(self.endpoint) && has(self.s3CredentialsSecretRef))",message="destination: set bucket, objectKey, endpoint and s3CredentialsSecretRef for S3, or pvc{claimName, path} for a PersistentVolumeClaim"
// +kubebuilder:validation:XValidation:rule="!has(self.pvc) || !(has(self.bucket) || has(self.objectKey) || has(self.endpoint) || has(self.s3CredentialsSecretRef))",message="destination: set either the S3 fields (bucket, objectKey, endpoint, s3CredentialsSecretRef) or pvc, not both"
type BackupDestination struct {
	// S3Location holds the S3 fields of the legacy API.
	S3Location `json:",inline"`

	// pvc stores the backup on a PersistentVolumeClaim instead of S3.
	// +optional
	PVC *PVCLocation `json:"pvc,omitempty"`
}

// OdooBackupJobSpec asks for one backup of an instance's database and
// filestore.
type OdooBackupJobSpec struct {
	// odooInstanceRef is the instance backed up.
	// +required
	OdooInstanceRef OdooInstanceRef `json:"odooInstanceRef"`

	// format of the backup: zip (Odoo's database manager format, with the
	// filestore), dump (PostgreSQL custom format, the filestore as a tar
	// beside it) or sql (legacy, refused at reconcile).
	// +optional
	// +kubebuilder:default=zip
	Format BackupFormat `json:"format,omitempty"`

	// withFilestore includes the filestore.
	// +optional
	// +kubebuilder:default=true
	WithFilestore *bool `json:"withFilestore,omitempty"`

	// destination is where the backup is stored.
	// +required
	Destination BackupDestination `json:"destination"`

	// webhook is notified of phase changes (legacy; not sent by this operator).
	// +optional
	Webhook *JobWebhook `json:"webhook,omitempty"`
}

// OdooBackupJobStatus reports a backup.
type OdooBackupJobStatus struct {
	// OdooJobStatus holds the phase, Job, times and message of the backup.
	OdooJobStatus `json:",inline"`

	// backupSize is the size of the backup archive in bytes.
	// +optional
	BackupSize string `json:"backupSize,omitempty"`

	// objectKey is where the backup is stored: the S3 key, or the path in
	// the claim, recorded before its Job is created. Restores and pruning
	// read it.
	// +optional
	ObjectKey string `json:"objectKey,omitempty"`

	// sha256 of the backup archive, also stored beside it as <key>.sha256.
	// +optional
	SHA256 string `json:"sha256,omitempty"`

	// prune reports the deletion of the stored files once the backup was
	// marked for pruning (annotation bemade.org/prune, set by the schedule's
	// retention). The object is deleted when its files are; it stays, with
	// the reason here, when that failed.
	// +optional
	Prune *BackupPruneStatus `json:"prune,omitempty"`
}

// BackupPruneStatus reports the Job deleting a backup's stored files. It is
// recorded before the Job is created, so an operator restart resumes it.
type BackupPruneStatus struct {
	// jobName is the Job running `data delete-backup`: <name>-prune.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// phase is Running, or Failed when the Job failed (the files may be
	// partly deleted; the Job is run again once it is gone).
	// +optional
	Phase JobPhase `json:"phase,omitempty"`
	// startTime is when the deletion started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// message explains the phase and, after a failure, the fix.
	// +optional
	Message string `json:"message,omitempty"`
}

// OdooBackupJob backs up the database and filestore of an OdooInstance once,
// to S3 or a PersistentVolumeClaim, by a Job running the operator's own
// `data backup`. Instances with spec.backup.schedule create them on schedule.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=backupjob,categories=odoo-all
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.odooInstanceRef.name`
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.format`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Size",type=string,JSONPath=`.status.backupSize`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooBackupJob struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the requested backup.
	// +required
	Spec OdooBackupJobSpec `json:"spec"`
	// status reports the backup.
	// +optional
	Status OdooBackupJobStatus `json:"status,omitempty"`
}

// OdooBackupJobList is a list of OdooBackupJob.
//
// +kubebuilder:object:root=true
type OdooBackupJobList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the backup jobs.
	Items []OdooBackupJob `json:"items"`
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// StagingFilestoreMethod is how a refresh copies production's filestore.
// +kubebuilder:validation:Enum=auto;snapshot;copy
type StagingFilestoreMethod string

// Filestore methods, as in the legacy API. This operator copies the filestore
// through production's backup (auto and copy); snapshot is refused.
const (
	StagingFilestoreAuto     StagingFilestoreMethod = "auto"
	StagingFilestoreSnapshot StagingFilestoreMethod = "snapshot"
	StagingFilestoreCopy     StagingFilestoreMethod = "copy"
)

// StagingSource names the production OdooInstance a refresh copies.
type StagingSource struct {
	// instanceName is the production OdooInstance whose database and
	// filestore are copied.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	InstanceName string `json:"instanceName"`

	// instanceNamespace of the production instance. Only the refresh's own
	// namespace is accepted (empty means it); the field exists for
	// compatibility with the legacy API.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	InstanceNamespace string `json:"instanceNamespace,omitempty"`
}

// OdooStagingRefreshJobSpec is a request to refresh a staging instance from
// its production instance.
type OdooStagingRefreshJobSpec struct {
	// odooInstanceRef is the staging OdooInstance refreshed (environment
	// Staging; never the source itself).
	// +required
	OdooInstanceRef OdooInstanceRef `json:"odooInstanceRef"`

	// source is the production instance copied. When the staging instance
	// sets spec.productionInstanceRef, the source must be that instance.
	// +required
	Source StagingSource `json:"source"`

	// filestoreMethod is how the filestore is copied: auto and copy take it
	// through production's backup; snapshot (CSI snapshots in the legacy
	// operator) is refused.
	// +optional
	// +kubebuilder:default=auto
	FilestoreMethod StagingFilestoreMethod `json:"filestoreMethod,omitempty"`

	// neutralize runs `odoo neutralize` on the copy before it is swapped in
	// (default true). With false the copy is still checked: an active mail
	// server reaching a real host fails the refresh.
	// +optional
	// +kubebuilder:default=true
	Neutralize *bool `json:"neutralize,omitempty"`

	// skipFilestore copies the database only; staging keeps its filestore.
	// +optional
	// +kubebuilder:default=false
	SkipFilestore bool `json:"skipFilestore,omitempty"`

	// webhook is the legacy notification setting, accepted and not acted on
	// (the backup and restore children notify nothing either).
	// +optional
	Webhook *JobWebhook `json:"webhook,omitempty"`
}

// StagingRefreshStep is the step a refresh is at.
// +kubebuilder:validation:Enum=Backup;Restore;Done
type StagingRefreshStep string

// Staging refresh steps, in order.
const (
	// StagingRefreshStepBackup: the fresh OdooBackupJob of production runs.
	StagingRefreshStepBackup StagingRefreshStep = "Backup"
	// StagingRefreshStepRestore: the OdooRestoreJob into staging runs.
	StagingRefreshStepRestore StagingRefreshStep = "Restore"
	// StagingRefreshStepDone: the refresh ended (see phase).
	StagingRefreshStepDone StagingRefreshStep = "Done"
)

// OdooStagingRefreshJobStatus reports a refresh.
type OdooStagingRefreshJobStatus struct {
	OdooJobStatus `json:",inline"`

	// step the refresh is at: Backup, Restore, Done.
	// +optional
	Step StagingRefreshStep `json:"step,omitempty"`

	// backupJobName is the OdooBackupJob of production this refresh took
	// (<name>-backup, owned by the refresh).
	// +optional
	BackupJobName string `json:"backupJobName,omitempty"`

	// backupObjectKey is where production's backup was stored (its
	// status.objectKey), recorded once the backup completed: the restore
	// reads it even if the OdooBackupJob object is removed afterwards.
	// +optional
	BackupObjectKey string `json:"backupObjectKey,omitempty"`

	// restoreJobName is the OdooRestoreJob into staging (<name>-restore,
	// owned by the refresh).
	// +optional
	RestoreJobName string `json:"restoreJobName,omitempty"`

	// keptDatabase is the previous staging database, kept by the restore
	// (keepPreviousDatabase true); drop it by hand once staging is fine.
	// +optional
	KeptDatabase string `json:"keptDatabase,omitempty"`

	// conditions: Ready (True once Completed, False with the reason while
	// running or after a failure).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// OdooStagingRefreshJob copies a production OdooInstance into a staging
// one: a fresh OdooBackupJob of production (which keeps serving), then an
// OdooRestoreJob into staging that neutralizes and checks the copy before
// swapping it in, keeping the previous staging database. Accepted in the
// legacy operator's schema.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=staging-refresh,categories=odoo-all
// +kubebuilder:unservedversion
// +kubebuilder:deprecatedversion:warning="bemade.org/v1alpha1 OdooStagingRefreshJob is deprecated; use bemade.org/v1alpha2"
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.odooInstanceRef.name`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source.instanceName`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.step`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooStagingRefreshJob struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the requested refresh.
	// +required
	Spec OdooStagingRefreshJobSpec `json:"spec"`
	// status reports the refresh.
	// +optional
	Status OdooStagingRefreshJobStatus `json:"status,omitempty"`
}

// OdooStagingRefreshJobList is a list of OdooStagingRefreshJob.
//
// +kubebuilder:object:root=true
type OdooStagingRefreshJobList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the staging refresh jobs.
	Items []OdooStagingRefreshJob `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &OdooStagingRefreshJob{}, &OdooStagingRefreshJobList{})
		return nil
	})
}

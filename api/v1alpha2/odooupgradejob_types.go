package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OdooUpgradeJobSpec asks for a module upgrade of an instance's database.
type OdooUpgradeJobSpec struct {
	// odooInstanceRef is the instance whose modules are upgraded.
	// +required
	OdooInstanceRef OdooInstanceRef `json:"odooInstanceRef"`

	// modules are updated (`odoo -u`); empty means all.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	// +listType=atomic
	Modules []string `json:"modules,omitempty"`

	// modulesInstall are installed (`odoo -i`) by the same run.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	// +listType=atomic
	ModulesInstall []string `json:"modulesInstall,omitempty"`

	// scheduledTime delays the upgrade until then; unset means at once.
	// +optional
	ScheduledTime *metav1.Time `json:"scheduledTime,omitempty"`

	// webhook is notified of phase changes (legacy; not sent by this operator).
	// +optional
	Webhook *JobWebhook `json:"webhook,omitempty"`
}

// OdooUpgradeJobStatus reports a module upgrade.
type OdooUpgradeJobStatus struct {
	// OdooJobStatus holds the phase, Job, times and message of the upgrade,
	// mirrored from the instance's status.upgrade.
	OdooJobStatus `json:",inline"`

	// originalReplicas is a legacy field: the reference operator recorded the
	// web replicas it scaled down for the upgrade. This operator keeps web
	// serving the old image during an upgrade and never writes it.
	// +optional
	OriginalReplicas *int32 `json:"originalReplicas,omitempty"`
}

// OdooUpgradeJob upgrades the modules of an OdooInstance, for users who
// create it by hand as with the legacy operator. It runs through the
// instance's guarded upgrade (module snapshot, maintenance mode, restore
// point, upgrade Job judged by exit, log and post-check), with trigger
// OdooUpgradeJob/<name>; its status mirrors the instance's status.upgrade.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=upgradejob,categories=odoo-all
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.odooInstanceRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooUpgradeJob struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the requested upgrade.
	// +required
	Spec OdooUpgradeJobSpec `json:"spec"`
	// status reports the upgrade.
	// +optional
	Status OdooUpgradeJobStatus `json:"status,omitempty"`
}

// OdooUpgradeJobList is a list of OdooUpgradeJob.
//
// +kubebuilder:object:root=true
type OdooUpgradeJobList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the upgrade jobs.
	Items []OdooUpgradeJob `json:"items"`
}

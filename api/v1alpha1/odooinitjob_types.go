package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OdooInstanceRef points at an OdooInstance.
type OdooInstanceRef struct {
	// name of the OdooInstance.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of the OdooInstance. Only the job's own namespace is accepted;
	// the field exists for compatibility with the legacy API.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// JobWebhook is the legacy notification setting of the job kinds.
type JobWebhook struct {
	// url receives a POST when the job's phase changes.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// token is sent as a bearer token (legacy, plain text; prefer secretTokenSecretRef).
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Token string `json:"token,omitempty"`

	// secretTokenSecretRef selects a Secret key holding the bearer token.
	// +optional
	SecretTokenSecretRef *SecretKeyRef `json:"secretTokenSecretRef,omitempty"`
}

// SecretKeyRef selects a key of a Secret in the object's namespace.
type SecretKeyRef struct {
	// name of the Secret.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// key in the Secret.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// OdooInitJobSpec asks for the initialisation of an instance's database.
type OdooInitJobSpec struct {
	// odooInstanceRef is the instance whose database is initialised.
	// +required
	OdooInstanceRef OdooInstanceRef `json:"odooInstanceRef"`

	// modules installed during initialisation.
	// +optional
	// +kubebuilder:default={base}
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	// +listType=atomic
	Modules []string `json:"modules,omitempty"`

	// demo loads Odoo's demo data.
	// +optional
	Demo bool `json:"demo,omitempty"`

	// webhook is notified of phase changes (legacy).
	// +optional
	Webhook *JobWebhook `json:"webhook,omitempty"`
}

// JobPhase is the phase of an Odoo job object.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type JobPhase string

// Job phases, as in the legacy API.
const (
	JobPending   JobPhase = "Pending"
	JobRunning   JobPhase = "Running"
	JobCompleted JobPhase = "Completed"
	JobFailed    JobPhase = "Failed"
)

// OdooJobStatus is the status shared by the Odoo job kinds.
type OdooJobStatus struct {
	// phase of the job.
	// +optional
	Phase JobPhase `json:"phase,omitempty"`
	// jobName is the Kubernetes Job doing the work.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// startTime is when the work started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the work ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`
}

// OdooInitJob initialises the database of an OdooInstance, for users who
// create it by hand as with the legacy operator. Instances initialise their
// database themselves from spec.init; an OdooInitJob that exists when the
// instance is not yet initialised supplies the modules instead.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=initjob,categories=odoo-all
// +kubebuilder:unservedversion
// +kubebuilder:deprecatedversion:warning="bemade.org/v1alpha1 OdooInitJob is deprecated; use bemade.org/v1alpha2"
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.odooInstanceRef.name`
// +kubebuilder:printcolumn:name="Modules",type=string,JSONPath=`.spec.modules`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooInitJob struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the requested initialisation.
	// +required
	Spec OdooInitJobSpec `json:"spec"`
	// status reports the initialisation.
	// +optional
	Status OdooJobStatus `json:"status,omitempty"`
}

// OdooInitJobList is a list of OdooInitJob.
//
// +kubebuilder:object:root=true
type OdooInitJobList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the init jobs.
	Items []OdooInitJob `json:"items"`
}

package v1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// This file holds the legacy OdooInstance schema: the one of the Python
// operator (served as bemade.org/v1 and v1alpha1, see the legacy odoo-crd.yaml)
// plus the fields the reference operator 2.5.0 added, so that objects written by
// either keep every field. api/v1alpha1/odooinstance_types.go holds the same schema;
// the two must stay identical (a conversion test compares them).
//
// Validation is the legacy one, loosened only where the hub (v1alpha2) can hold
// values the legacy schema refused (for instance replicas: 0). The defaults are
// the legacy CRD's, except filestore.storageClass (see FilestoreSpec). Defaults of
// a served version are applied when an object is written through that version
// and, for objects still stored in it, when it is read from etcd; the conversion
// webhook keeps them from leaking into objects written through v1alpha2.

// OdooInstanceSpec is the legacy desired state of an Odoo deployment.
//
// Writes through this version are validated with this schema, not v1alpha2's.
// The one v1alpha2 rule that guards data is repeated here: the database name
// cannot change once set.
//
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.database) || !has(oldSelf.database.name) || (has(self.database) && has(self.database.name) && self.database.name == oldSelf.database.name)",message="spec.database.name is immutable once set: changing it would point the instance at another database; restore a backup into the new name instead"
type OdooInstanceSpec struct {
	// image is the Odoo container image used by the web and cron pods and the
	// Odoo Jobs.
	// +optional
	// +kubebuilder:default="odoo:18.0"
	Image string `json:"image,omitempty"`

	// imagePullSecret names a kubernetes.io/dockerconfigjson Secret used to pull
	// image.
	// +optional
	ImagePullSecret string `json:"imagePullSecret,omitempty"`

	// adminPassword is Odoo's master password (admin_passwd) in plain text.
	// Required by the legacy schema; optional here because instances written
	// through v1alpha2 may use adminPasswordSecretRef instead.
	// +optional
	AdminPassword string `json:"adminPassword,omitempty"`

	// replicas is the number of web pods. The legacy schema required at least 1;
	// 0 (stopped, as in the reference operator 2.5.0) is accepted so that every
	// instance written through v1alpha2 can be read and written back here.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// cron configures the cron Deployment (reference operator 2.5.0).
	// +optional
	Cron *CronSpec `json:"cron,omitempty"`

	// resources of the web container, in the legacy form: CPU and memory requests
	// and limits only.
	// +optional
	Resources *ResourceRequirements `json:"resources,omitempty"`

	// filestore configures the volume holding Odoo's attachments.
	// +optional
	Filestore *FilestoreSpec `json:"filestore,omitempty"`

	// ingress publishes the instance.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// configOptions are options for the [options] section of odoo.conf.
	// +optional
	ConfigOptions map[string]string `json:"configOptions,omitempty"`

	// database configures the instance's database.
	// +optional
	Database *DatabaseSpec `json:"database,omitempty"`

	// init configures the automatic initialisation of the database (reference
	// operator 2.5.0).
	// +optional
	Init *InitSpec `json:"init,omitempty"`

	// environment says what the instance is for (reference operator
	// 2.5.0). It is spec.environment of v1alpha2: a restore into an instance
	// that is not Production is neutralized unless it asks otherwise.
	// +optional
	// +kubebuilder:validation:Enum=Staging;Production
	Environment string `json:"environment,omitempty"`

	// productionInstanceRef names the production instance a staging instance is
	// refreshed from (reference operator 2.5.0). Not used by this operator; kept
	// for round trips.
	// +optional
	ProductionInstanceRef *ProductionInstanceRef `json:"productionInstanceRef,omitempty"`

	// strategy is the deployment strategy of the web pods.
	// +optional
	Strategy *StrategySpec `json:"strategy,omitempty"`

	// sync triggered a Git synchronisation of addons in the legacy operator. Not
	// used by this operator; kept for round trips.
	// +optional
	Sync *SyncSpec `json:"sync,omitempty"`

	// webhook receives status notifications.
	// +optional
	Webhook *WebhookSpec `json:"webhook,omitempty"`

	// probes configures the HTTP health checks of the web pods.
	// +optional
	Probes *ProbesSpec `json:"probes,omitempty"`

	// affinity of the pods, a core/v1 Affinity (reference operator 2.5.0).
	// Converted to v1alpha2's spec.affinity; kept verbatim for round trips,
	// so not validated here.
	// +optional
	Affinity *runtime.RawExtension `json:"affinity,omitempty"`

	// tolerations of the pods, core/v1 Tolerations (reference operator 2.5.0).
	// Converted to v1alpha2's spec.tolerations; kept verbatim for round trips,
	// so not validated here.
	// +optional
	// +listType=atomic
	Tolerations []runtime.RawExtension `json:"tolerations,omitempty"`

	// readOnlySqlAccess provisions a read-only PostgreSQL role (reference
	// operator 2.5.0); converted to v1alpha2's readOnlySqlAccess.
	// +optional
	ReadOnlySQLAccess *ReadOnlySQLAccessSpec `json:"readOnlySqlAccess,omitempty"`

	// extraEnv are environment variables added to the Odoo containers (reference
	// operator 2.5.0).
	// +optional
	// +listType=atomic
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty"`

	// extraEnvFrom are sources of environment variables added to the Odoo
	// containers (reference operator 2.5.0).
	// +optional
	// +listType=atomic
	ExtraEnvFrom []corev1.EnvFromSource `json:"extraEnvFrom,omitempty"`
}

// CronSpec configures the cron Deployment.
type CronSpec struct {
	// replicas of the cron Deployment.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// resources of the cron container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// ResourceRequirements are the legacy CPU and memory settings of the web
// container.
type ResourceRequirements struct {
	// requests are the reserved CPU and memory.
	// +optional
	Requests *ResourceRequests `json:"requests,omitempty"`

	// limits are the CPU and memory caps.
	// +optional
	Limits *ResourceLimits `json:"limits,omitempty"`
}

// ResourceRequests are the legacy resource requests.
type ResourceRequests struct {
	// cpu request, e.g. 200m.
	// +optional
	// +kubebuilder:default="200m"
	CPU *resource.Quantity `json:"cpu,omitempty"`

	// memory request, e.g. 250Mi.
	// +optional
	// +kubebuilder:default="250Mi"
	Memory *resource.Quantity `json:"memory,omitempty"`
}

// ResourceLimits are the legacy resource limits.
type ResourceLimits struct {
	// cpu limit, e.g. 2000m.
	// +optional
	// +kubebuilder:default="2000m"
	CPU *resource.Quantity `json:"cpu,omitempty"`

	// memory limit, e.g. 2Gi.
	// +optional
	// +kubebuilder:default="2Gi"
	Memory *resource.Quantity `json:"memory,omitempty"`
}

// FilestoreSpec configures the filestore volume.
//
// The legacy schema defaulted storageClass to "standard". That default is
// dropped: objects written before the field existed live on the class the
// legacy operator hard-coded, and the conversion webhook fills that class
// (--conversion-default-storage-class, "cephfs" by default) instead.
type FilestoreSpec struct {
	// storageSize is the requested size of the volume, e.g. 2Gi.
	// +optional
	// +kubebuilder:default="2Gi"
	StorageSize string `json:"storageSize,omitempty"`

	// storageClass is the StorageClass of the volume.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
}

// IngressSpec configures the Ingress.
type IngressSpec struct {
	// hosts are the fully qualified domain names of the instance.
	// +required
	// +listType=atomic
	Hosts []string `json:"hosts"`

	// issuer is the cert-manager ClusterIssuer of the TLS certificate. Required by
	// the legacy schema; optional here because v1alpha2 instances may omit it.
	// +optional
	Issuer string `json:"issuer,omitempty"`

	// class is the IngressClass.
	// +optional
	Class string `json:"class,omitempty"`

	// gatewayRef selects a Gateway API HTTPRoute instead of an Ingress
	// (reference operator 2.5.0); converted to v1alpha2's ingress.gatewayRef.
	// +optional
	GatewayRef *GatewayRef `json:"gatewayRef,omitempty"`
}

// GatewayRef names a Gateway.
type GatewayRef struct {
	// name of the Gateway.
	// +optional
	Name string `json:"name,omitempty"`

	// namespace of the Gateway.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// DatabaseSpec configures the database.
type DatabaseSpec struct {
	// cluster names an entry of the PostgreSQL clusters Secret. If not specified,
	// the entry marked default is used.
	// +optional
	Cluster string `json:"cluster,omitempty"`

	// name of the PostgreSQL database (reference operator 2.5.0).
	// +optional
	Name string `json:"name,omitempty"`

	// missingPolicy says what to do when the database disappears: Ignore or
	// Recreate (reference operator 2.5.0).
	// +optional
	// +kubebuilder:validation:Enum=Ignore;Recreate
	MissingPolicy string `json:"missingPolicy,omitempty"`
}

// InitSpec configures the automatic database initialisation.
type InitSpec struct {
	// enabled created an OdooInitJob automatically. This operator always
	// initialises a new database; kept for round trips.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// modules installed when the database is created.
	// +optional
	// +listType=atomic
	Modules []string `json:"modules,omitempty"`

	// demo loads Odoo's demo data.
	// +optional
	Demo bool `json:"demo,omitempty"`

	// webhook was copied into the automatic OdooInitJob. Not used by this
	// operator; kept for round trips.
	// +optional
	Webhook *InitWebhook `json:"webhook,omitempty"`
}

// InitWebhook is the notification setting of the automatic OdooInitJob.
type InitWebhook struct {
	// url receives a POST when the job's phase changes.
	// +optional
	URL string `json:"url,omitempty"`

	// token is sent as a bearer token.
	// +optional
	Token string `json:"token,omitempty"`

	// secretTokenSecretRef selects a Secret key holding the bearer token.
	// +optional
	SecretTokenSecretRef *WebhookSecretKeyRef `json:"secretTokenSecretRef,omitempty"`
}

// WebhookSecretKeyRef selects a key of a Secret.
type WebhookSecretKeyRef struct {
	// name of the Secret.
	// +optional
	Name string `json:"name,omitempty"`

	// key in the Secret.
	// +optional
	Key string `json:"key,omitempty"`
}

// ProductionInstanceRef names an OdooInstance.
type ProductionInstanceRef struct {
	// name of the OdooInstance.
	// +required
	Name string `json:"name"`

	// namespace of the OdooInstance.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// StrategySpec is the deployment strategy.
type StrategySpec struct {
	// type of the strategy. The legacy operator's default, Recreate, is kept:
	// the conversion webhook also fills it when strategy.type is absent.
	// +optional
	// +kubebuilder:default="Recreate"
	// +kubebuilder:validation:Enum=Recreate;RollingUpdate
	Type string `json:"type,omitempty"`

	// rollingUpdate configures a RollingUpdate.
	// +optional
	RollingUpdate *RollingUpdateSpec `json:"rollingUpdate,omitempty"`
}

// RollingUpdateSpec configures a rolling update.
type RollingUpdateSpec struct {
	// maxUnavailable is the number or percentage of pods that may be unavailable
	// during an update, as a string ("25%", "1").
	// +optional
	// +kubebuilder:default="25%"
	MaxUnavailable string `json:"maxUnavailable,omitempty"`

	// maxSurge is the number or percentage of extra pods allowed during an
	// update, as a string ("25%", "1").
	// +optional
	// +kubebuilder:default="25%"
	MaxSurge string `json:"maxSurge,omitempty"`
}

// SyncSpec is the legacy Git synchronisation trigger.
type SyncSpec struct {
	// enabled triggers a sync; the legacy operator reset it to false afterwards.
	// +optional
	// +kubebuilder:default=false
	Enabled *bool `json:"enabled,omitempty"`

	// time is the scheduled time of the sync, YYYY-MM-DDTHH:MM:SSZ.
	// +optional
	// +kubebuilder:validation:Format=date-time
	Time string `json:"time,omitempty"`
}

// WebhookSpec configures status notifications.
type WebhookSpec struct {
	// url receives a POST when the instance's phase changes.
	// +optional
	URL string `json:"url,omitempty"`
}

// ProbesSpec configures the HTTP health checks of the web pods.
type ProbesSpec struct {
	// startupPath is the HTTP path of the startup probe.
	// +optional
	// +kubebuilder:default="/web/health"
	StartupPath string `json:"startupPath,omitempty"`

	// livenessPath is the HTTP path of the liveness probe.
	// +optional
	// +kubebuilder:default="/web/health"
	LivenessPath string `json:"livenessPath,omitempty"`

	// readinessPath is the HTTP path of the readiness probe. This operator uses
	// one path for all three probes: this one.
	// +optional
	// +kubebuilder:default="/web/health"
	ReadinessPath string `json:"readinessPath,omitempty"`
}

// ReadOnlySQLAccessSpec configured a read-only PostgreSQL role.
type ReadOnlySQLAccessSpec struct {
	// enabled provisions the role.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// connectionLimit of the role.
	// +optional
	ConnectionLimit *int32 `json:"connectionLimit,omitempty"`
}

// Phase is the legacy phase of an instance: the Python operator's three
// phases, the reference operator 2.5.0's and the hub's.
// +kubebuilder:validation:Enum=Running;Upgrading;Restoring;Provisioning;Uninitialized;Initializing;InitFailed;Starting;Degraded;Stopped;CloningFromSource;BackingUp;MigratingFilestore;FinalizingFilestoreMigration;MigratingDatabase;FinalizingDatabaseMigration;Error;Pending;Failed
type Phase string

// Legacy phases.
const (
	PhaseRunning                      Phase = "Running"
	PhaseUpgrading                    Phase = "Upgrading"
	PhaseRestoring                    Phase = "Restoring"
	PhaseProvisioning                 Phase = "Provisioning"
	PhaseUninitialized                Phase = "Uninitialized"
	PhaseInitializing                 Phase = "Initializing"
	PhaseInitFailed                   Phase = "InitFailed"
	PhaseStarting                     Phase = "Starting"
	PhaseDegraded                     Phase = "Degraded"
	PhaseStopped                      Phase = "Stopped"
	PhaseCloningFromSource            Phase = "CloningFromSource"
	PhaseBackingUp                    Phase = "BackingUp"
	PhaseMigratingFilestore           Phase = "MigratingFilestore"
	PhaseFinalizingFilestoreMigration Phase = "FinalizingFilestoreMigration"
	PhaseMigratingDatabase            Phase = "MigratingDatabase"
	PhaseFinalizingDatabaseMigration  Phase = "FinalizingDatabaseMigration"
	PhaseError                        Phase = "Error"
	PhasePending                      Phase = "Pending"
	PhaseFailed                       Phase = "Failed"
)

// OdooInstanceStatus is the legacy observed state of an instance.
type OdooInstanceStatus struct {
	// phase of the instance.
	// +optional
	// +kubebuilder:default="Running"
	Phase Phase `json:"phase,omitempty"`

	// message explains the phase.
	// +optional
	Message string `json:"message,omitempty"`

	// ready is true when the instance serves.
	// +optional
	Ready *bool `json:"ready,omitempty"`

	// url is where users reach the instance.
	// +optional
	URL string `json:"url,omitempty"`

	// lastBackup is when the last backup completed.
	// +optional
	LastBackup *metav1.Time `json:"lastBackup,omitempty"`

	// conditions describe the instance.
	// +optional
	// +listType=atomic
	Conditions []Condition `json:"conditions,omitempty"`

	// readyReplicas is the number of ready web pods (reference operator 2.5.0).
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// targetReplicas is the desired number of web pods (reference operator 2.5.0).
	// +optional
	TargetReplicas int32 `json:"targetReplicas,omitempty"`

	// selector is the label selector of the web pods (reference operator 2.5.0).
	// +optional
	Selector string `json:"selector,omitempty"`

	// dbInitialized is true once the database is initialised (reference operator
	// 2.5.0).
	// +optional
	DBInitialized bool `json:"dbInitialized,omitempty"`

	// activeCluster is the PostgreSQL cluster holding the database (reference
	// operator 2.5.0).
	// +optional
	ActiveCluster string `json:"activeCluster,omitempty"`

	// migrationJobName is the filestore migration Job (reference operator 2.5.0).
	// +optional
	MigrationJobName string `json:"migrationJobName,omitempty"`

	// migrationPvName is the filestore migration volume (reference operator 2.5.0).
	// +optional
	MigrationPVName string `json:"migrationPvName,omitempty"`

	// migrationPreviousStorageClass is the class a filestore migration started
	// from (reference operator 2.5.0).
	// +optional
	MigrationPreviousStorageClass string `json:"migrationPreviousStorageClass,omitempty"`

	// dbMigrationJobName is the database migration Job (reference operator 2.5.0).
	// +optional
	DBMigrationJobName string `json:"dbMigrationJobName,omitempty"`

	// migrationPreviousCluster is the cluster a database migration started from
	// (reference operator 2.5.0).
	// +optional
	MigrationPreviousCluster string `json:"migrationPreviousCluster,omitempty"`
}

// Condition is a legacy status condition.
type Condition struct {
	// type of the condition.
	// +required
	Type string `json:"type"`

	// status of the condition: True, False or Unknown.
	// +required
	Status string `json:"status"`

	// observedGeneration is the metadata.generation the condition was set for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`

	// reason is a CamelCase reason for the status.
	// +optional
	Reason string `json:"reason,omitempty"`

	// message explains the status.
	// +optional
	Message string `json:"message,omitempty"`
}

// OdooInstance is the legacy (deprecated) form of an Odoo deployment. The
// operator stores and reconciles bemade.org/v1alpha2; this version is converted
// to and from it by the conversion webhook. It has the scale subresource like
// v1alpha1: kubectl prefers v1, so `kubectl scale odoo/<name>` goes through it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.readyReplicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=odoo,categories=odoo-all
// +kubebuilder:unservedversion
// +kubebuilder:deprecatedversion:warning="bemade.org/v1 OdooInstance is deprecated; use bemade.org/v1alpha2"
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Backup",type=string,JSONPath=`.status.conditions[?(@.type=="BackupSucceeded")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooInstance struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the instance.
	// +required
	Spec OdooInstanceSpec `json:"spec"`

	// status is the observed state of the instance. An empty status is left
	// out, so that the status defaults of this version apply only to a status
	// that has content.
	// +optional
	Status OdooInstanceStatus `json:"status,omitzero"`
}

// OdooInstanceList is a list of OdooInstance.
//
// +kubebuilder:object:root=true
type OdooInstanceList struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the instances.
	Items []OdooInstance `json:"items"`
}

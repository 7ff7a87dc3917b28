package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// OdooInstanceSpec is the desired state of one Odoo deployment: its image, its
// database, its filestore, and how web and cron processes run.
//
// +kubebuilder:validation:XValidation:rule="has(self.adminPassword) != has(self.adminPasswordSecretRef)",message="set exactly one of spec.adminPassword or spec.adminPasswordSecretRef (prefer the Secret reference)"
// +kubebuilder:validation:XValidation:rule="!has(self.productionInstanceRef) || (has(self.environment) && self.environment == 'Staging')",message="spec.productionInstanceRef requires spec.environment: Staging: only a staging instance is refreshed from production"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas <= 1 || !has(self.filestore) || !has(self.filestore.accessMode) || self.filestore.accessMode == 'ReadWriteMany'",message="spec.filestore.accessMode must be ReadWriteMany when spec.replicas > 1: every web pod mounts the same filestore (or leave accessMode empty to let the operator choose)"
type OdooInstanceSpec struct {
	// image is the Odoo container image used by the web and cron Deployments and
	// by every Odoo Job (init, upgrade). Changing it triggers a guarded module
	// upgrade when autoUpgrade is enabled.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.matches('\\\\s')",message="must be an image reference without whitespace, e.g. odoo:18.0"
	Image string `json:"image"`

	// imagePullSecret names a Secret of type kubernetes.io/dockerconfigjson in the
	// instance's namespace, used to pull image.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be the name of a Secret: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, e.g. registry-credentials"
	ImagePullSecret string `json:"imagePullSecret,omitempty"`

	// adminPassword is Odoo's master password (admin_passwd) in plain text. Kept
	// for compatibility with the legacy API; prefer adminPasswordSecretRef, which
	// keeps the password out of the OdooInstance object.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	AdminPassword string `json:"adminPassword,omitempty"`

	// adminPasswordSecretRef selects the key of a Secret in the instance's
	// namespace that holds Odoo's master password (admin_passwd).
	// +optional
	AdminPasswordSecretRef *corev1.SecretKeySelector `json:"adminPasswordSecretRef,omitempty"`

	// replicas is the number of web pods. 0 stops the web tier (cron keeps its
	// own replica count). Exposed through the scale subresource, so
	// `kubectl scale odoo/<name>` and autoscalers work.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`

	// workers is Odoo's number of HTTP worker processes for each web pod. 0 (or
	// unset) runs Odoo in threaded mode; a positive number switches to prefork
	// mode and enables the websocket (gevent) port 8072 behind /websocket. A
	// number or a string holding a number ("5") are both accepted. When unset,
	// configOptions.workers is used if present.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 0 && self <= 256) : self.matches('^[0-9]{1,3}$')",message="must be a whole number of Odoo worker processes between 0 and 256, e.g. 4 or \"4\" (0 = threaded mode)"
	Workers *intstr.IntOrString `json:"workers,omitempty"`

	// resources of the web container. Defaults to requests 200m CPU / 256Mi and
	// limits 2 CPU / 2Gi, like the legacy operator.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// filestore configures the volume that holds Odoo's attachments and sessions
	// (data_dir, mounted at /var/lib/odoo).
	// +optional
	// +kubebuilder:default={}
	Filestore FilestoreSpec `json:"filestore,omitempty"`

	// ingress publishes the instance on one or more host names.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// configOptions are extra options merged into the [options] section of
	// odoo.conf, e.g. limit_time_real: "600". Keys the operator owns (database
	// connection, data_dir, ports, admin_passwd) are refused; use the matching
	// spec fields instead.
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['db_host', 'db_port', 'db_user', 'db_password', 'db_name', 'data_dir', 'admin_passwd', 'http_port', 'gevent_port', 'longpolling_port', 'http_interface']))",message="keys db_host, db_port, db_user, db_password, db_name, data_dir, admin_passwd, http_port, gevent_port, longpolling_port and http_interface are set by the operator; use spec.database, spec.adminPassword or spec.adminPasswordSecretRef instead"
	// +kubebuilder:validation:XValidation:rule="!('workers' in self) || self['workers'].matches('^[0-9]{1,3}$')",message="configOptions.workers must be a whole number, e.g. \"4\" (prefer spec.workers)"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[a-z][a-z0-9_]*$'))",message="option names must be odoo.conf keys: lowercase letters, digits and underscores, e.g. limit_time_real"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !self[k].contains('\\n') && !self[k].contains('\\r'))",message="option values must be a single line: a line break would inject other options into odoo.conf"
	ConfigOptions map[string]ConfigValue `json:"configOptions,omitempty"`

	// database selects the PostgreSQL cluster and names the database.
	// +optional
	// +kubebuilder:default={}
	Database DatabaseSpec `json:"database,omitempty"`

	// deletionPolicy says what happens to the database and its role when the
	// OdooInstance is deleted. Retain (the default) keeps both; Delete drops them.
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// environment says what the instance is for: Production or Staging
	// (the legacy field of the same name). Unset counts as not production,
	// like the reference operator's default Staging. An OdooRestoreJob
	// neutralizes the restored database (mail servers, crons off) unless the
	// instance is Production or the restore says otherwise: set Production
	// on a production instance so that a disaster-recovery restore is not
	// neutralized.
	// +optional
	Environment Environment `json:"environment,omitempty"`

	// productionInstanceRef makes this instance a staging copy of the named
	// production OdooInstance (same namespace only): once its own database
	// is initialised and whenever an OdooStagingRefreshJob or the annotation
	// bemade.org/refresh-staging asks, it is refreshed with a fresh backup of
	// production, neutralized and checked before it is swapped in (see
	// docs/staging.md). Requires environment Staging.
	// +optional
	ProductionInstanceRef *ProductionInstanceRef `json:"productionInstanceRef,omitempty"`

	// init configures the first initialisation of the database.
	// +optional
	// +kubebuilder:default={}
	Init InitSpec `json:"init,omitempty"`

	// probes configures the HTTP health checks of the web pods.
	// +optional
	// +kubebuilder:default={}
	Probes ProbesSpec `json:"probes,omitempty"`

	// strategy is the rollout strategy of the web Deployment. The cron
	// Deployment always uses Recreate so that two cron pods never overlap.
	// +optional
	// +kubebuilder:default={}
	Strategy StrategySpec `json:"strategy,omitempty"`

	// webhook receives notifications about phase changes, upgrades and rollbacks.
	// +optional
	Webhook *WebhookSpec `json:"webhook,omitempty"`

	// cron configures the cron Deployment (<name>-cron), which runs Odoo's
	// scheduled actions apart from the web pods.
	// +optional
	// +kubebuilder:default={}
	Cron CronSpec `json:"cron,omitempty"`

	// extraEnv are environment variables added to the web, cron and Odoo Job
	// containers. Names the operator sets itself (ODOO_RC, WORKERS,
	// MAX_CRON_THREADS, HTTP_ENABLE and the PG* connection variables) are
	// refused: use the matching spec fields.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:XValidation:rule="self.all(e, !(e.name in ['ODOO_RC', 'WORKERS', 'MAX_CRON_THREADS', 'HTTP_ENABLE', 'PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSSLMODE', 'PGSSLROOTCERT']))",message="names ODOO_RC, WORKERS, MAX_CRON_THREADS, HTTP_ENABLE, PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE and PGSSLROOTCERT are set by the operator; use spec.workers, spec.cron.maxCronThreads, spec.database or spec.configOptions instead"
	// +listType=map
	// +listMapKey=name
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty"`

	// extraEnvFrom are sources of environment variables added to the web, cron
	// and Odoo Job containers.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	ExtraEnvFrom []corev1.EnvFromSource `json:"extraEnvFrom,omitempty"`

	// autoUpgrade configures the guarded `odoo -u all` run on image changes.
	// +optional
	// +kubebuilder:default={}
	AutoUpgrade AutoUpgradeSpec `json:"autoUpgrade,omitempty"`

	// rollback configures the automatic rollback of a new image that misbehaves.
	// +optional
	// +kubebuilder:default={}
	Rollback RollbackSpec `json:"rollback,omitempty"`

	// backup configures backups of the database and filestore.
	// +optional
	// +kubebuilder:default={}
	Backup BackupSpec `json:"backup,omitempty"`

	// logMonitoring configures the sampling of Odoo's logs into status.health.
	// +optional
	// +kubebuilder:default={}
	LogMonitoring LogMonitoringSpec `json:"logMonitoring,omitempty"`

	// modules declares Odoo modules the instance must have.
	// +optional
	Modules ModulesSpec `json:"modules,omitempty"`

	// affinity constrains which nodes the instance's pods (web, cron and
	// every Job of the instance) run on, and next to which other pods (the
	// legacy field of the same name). With a ReadWriteOnce filestore all of
	// them must reach the node that mounts it: do not spread them apart.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// tolerations let the instance's pods (web, cron and Jobs) run on nodes
	// with matching taints (the legacy field of the same name).
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// nodeSelector restricts the instance's pods (web, cron and Jobs) to
	// nodes carrying these labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// topologySpreadConstraints spread the instance's pods across zones or
	// nodes; the operator sets each constraint's labelSelector to the pods of
	// the same tier (web or cron, or the Job's own pod) when it is empty.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=topologyKey
	// +listMapKey=whenUnsatisfiable
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// readOnlySqlAccess gives BI tools a read-only PostgreSQL login: the role
	// <instance role>_ro, which may connect to the instance's database and
	// SELECT its tables (also those created later), and nothing else. Its
	// credentials are in the Secret <name>-odoo-ro (username, password, host,
	// port, database). Disabling it drops the role and deletes the Secret.
	// +optional
	ReadOnlySQLAccess *ReadOnlySQLAccessSpec `json:"readOnlySqlAccess,omitempty"`

	// jobHistoryLimit keeps, of each kind of finished job object of the
	// instance (OdooBackupJob, OdooRestoreJob, OdooInitJob, OdooUpgradeJob),
	// the newest N and deletes the older ones, like a CronJob's history limit
	// (the reference operator's job history limit). Objects still pending or
	// running are never deleted; neither are scheduled backups (their
	// retention decides) nor upgrade restore points. Deleting an
	// OdooBackupJob does not delete its stored file. Unset or 0 keeps them all.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	JobHistoryLimit *int32 `json:"jobHistoryLimit,omitempty"`

	// priorityClassName is the PriorityClass of the instance's pods (web,
	// cron and Jobs). Empty uses the cluster's default priority.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// ProductionInstanceRef names the production OdooInstance a staging instance
// is copied from.
type ProductionInstanceRef struct {
	// name of the production OdooInstance (not this instance itself).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of the production OdooInstance: empty or the staging
	// instance's own namespace (refused at admission otherwise).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// FilestoreSpec configures the filestore PersistentVolumeClaim.
type FilestoreSpec struct {
	// storageSize is the requested size of the filestore volume. It can grow but
	// never shrink.
	// +optional
	// +kubebuilder:default="2Gi"
	StorageSize *resource.Quantity `json:"storageSize,omitempty"`

	// storageClass is the StorageClass of the filestore volume. Empty uses the
	// cluster's default StorageClass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClass string `json:"storageClass,omitempty"`

	// accessMode of the filestore volume. Empty lets the operator choose:
	// ReadWriteMany when more than one web replica is requested, otherwise
	// ReadWriteOnce. Web, cron and Job pods all mount the filestore, so with
	// ReadWriteOnce they must land on the same node.
	// +optional
	// +kubebuilder:validation:Enum=ReadWriteOnce;ReadWriteMany
	AccessMode corev1.PersistentVolumeAccessMode `json:"accessMode,omitempty"`
}

// ConfigValue is the value of one odoo.conf option.
// +kubebuilder:validation:MaxLength=4096
type ConfigValue string

// Hostname is a DNS name, optionally with a leading wildcard label.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:XValidation:rule="self.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')",message="must be a lowercase DNS name such as odoo.example.com (letters, digits, '-' and '.', optionally starting with '*.')"
type Hostname string

// IngressSpec configures the Ingress of the instance.
type IngressSpec struct {
	// hosts are the fully qualified host names the instance answers on. The
	// first one becomes status.url.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=set
	Hosts []Hostname `json:"hosts"`

	// issuer is the name of the cert-manager ClusterIssuer that issues the TLS
	// certificate (annotation cert-manager.io/cluster-issuer). Empty serves
	// without TLS configuration.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Issuer string `json:"issuer,omitempty"`

	// class is the IngressClass that serves the Ingress. Empty uses the
	// cluster's default class.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Class string `json:"class,omitempty"`

	// gatewayRef publishes the instance through a Gateway API Gateway: the
	// operator creates an HTTPRoute <name> attached to it, for the same hosts
	// and paths (/websocket to the gevent port when workers > 0), instead of
	// an Ingress. TLS is the Gateway listener's business there: issuer and
	// class are not used. Needs the Gateway API CRDs in the cluster (the
	// instance reports Degraded, reason GatewayAPIMissing, without them) and a
	// Gateway whose listeners allow routes from the instance's namespace.
	// +optional
	GatewayRef *GatewayRef `json:"gatewayRef,omitempty"`
}

// ReadOnlySQLAccessSpec configures the read-only PostgreSQL login (the
// reference operator's field of the same name).
type ReadOnlySQLAccessSpec struct {
	// enabled provisions the read-only role and its Secret. Unset means
	// false. (No schema default here or below: the legacy versions convert
	// the field as written, and a default would change what they read back.)
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// connectionLimit is the most simultaneous connections of the read-only
	// role (-1: no limit). Unset means 5.
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=1000
	ConnectionLimit *int32 `json:"connectionLimit,omitempty"`
}

// GatewayRef names the Gateway an HTTPRoute attaches to.
type GatewayRef struct {
	// name of the Gateway.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of the Gateway. Empty means the instance's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// DatabaseSpec selects where the instance's database lives. Its name is
// checked at the OdooInstance level, where the database in use
// (status.database.name) is visible.
type DatabaseSpec struct {
	// cluster names an entry of the operator's PostgreSQL clusters Secret. Empty
	// uses the entry marked default.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`
	Cluster string `json:"cluster,omitempty"`

	// name of the PostgreSQL database. Empty derives a stable name from the
	// namespace and the instance name. Immutable once set.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')",message="must be a valid Odoo database name: letters, digits, '_', '.' and '-', starting with a letter or digit"
	Name string `json:"name,omitempty"`

	// missingPolicy says what to do when the database disappears after it was
	// initialised: Ignore reports it, Recreate initialises a fresh one.
	// +optional
	// +kubebuilder:default=Ignore
	MissingPolicy DatabaseMissingPolicy `json:"missingPolicy,omitempty"`
}

// DatabaseMissingPolicy is the reaction to a database that vanished.
// +kubebuilder:validation:Enum=Ignore;Recreate
type DatabaseMissingPolicy string

const (
	// DatabaseMissingIgnore reports a vanished database and does nothing else.
	DatabaseMissingIgnore DatabaseMissingPolicy = "Ignore"
	// DatabaseMissingRecreate initialises a new empty database.
	DatabaseMissingRecreate DatabaseMissingPolicy = "Recreate"
)

// DeletionPolicy says what deleting an OdooInstance does to its data.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionPolicyRetain keeps the database and its role.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete drops the database, then its role.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// Environment is what an instance is for.
// +kubebuilder:validation:Enum=Production;Staging
type Environment string

const (
	// EnvironmentProduction is a production instance: restores into it are
	// not neutralized unless they ask to be.
	EnvironmentProduction Environment = "Production"
	// EnvironmentStaging is a copy for tests or training: restores into it
	// are neutralized unless they ask not to be.
	EnvironmentStaging Environment = "Staging"
)

// InitSpec configures the first initialisation of the database.
type InitSpec struct {
	// modules installed when the database is created.
	// +optional
	// +kubebuilder:default={base}
	// +kubebuilder:validation:MaxItems=256
	// +listType=set
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	Modules []string `json:"modules,omitempty"`

	// demo loads Odoo's demo data. Never enable it for production databases.
	// +optional
	// +kubebuilder:default=false
	Demo bool `json:"demo,omitempty"`
}

// ProbesSpec configures the web pods' health checks.
type ProbesSpec struct {
	// endpoint is the HTTP path for the startup, liveness and readiness probes of
	// the web pods, served on port 8069.
	// +optional
	// +kubebuilder:default="/web/health"
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	Endpoint string `json:"endpoint,omitempty"`
}

// StrategyType is the rollout strategy of the web Deployment.
// +kubebuilder:validation:Enum=Recreate;RollingUpdate
type StrategyType string

const (
	// StrategyRecreate stops all old pods before starting new ones.
	StrategyRecreate StrategyType = "Recreate"
	// StrategyRollingUpdate replaces pods gradually.
	StrategyRollingUpdate StrategyType = "RollingUpdate"
)

// StrategySpec is the rollout strategy of the web Deployment.
//
// +kubebuilder:validation:XValidation:rule="!has(self.rollingUpdate) || !has(self.type) || self.type != 'Recreate'",message="rollingUpdate applies only to type RollingUpdate: remove spec.strategy.rollingUpdate, or set spec.strategy.type to RollingUpdate",fieldPath=".rollingUpdate"
type StrategySpec struct {
	// type of the strategy.
	// +optional
	// +kubebuilder:default=RollingUpdate
	Type StrategyType `json:"type,omitempty"`

	// rollingUpdate tunes a RollingUpdate.
	// +optional
	RollingUpdate *RollingUpdateSpec `json:"rollingUpdate,omitempty"`
}

// RollingUpdateSpec tunes a rolling update.
type RollingUpdateSpec struct {
	// maxUnavailable is the number or percentage of web pods that may be
	// unavailable during a rollout.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]{1,3}%$')",message="must be a number of pods or a percentage such as 25%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// maxSurge is the number or percentage of extra web pods allowed during a
	// rollout.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]{1,3}%$')",message="must be a number of pods or a percentage such as 25%"
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
}

// WebhookSpec configures notifications.
type WebhookSpec struct {
	// url receives a JSON POST on phase changes, upgrade results and rollbacks.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('http://') || self.startsWith('https://'))",message="must be an http:// or https:// URL"
	URL string `json:"url"`

	// secretRef selects a Secret key whose value signs each notification
	// (HMAC-SHA256 in the X-Odoo-Operator-Signature header).
	// +optional
	SecretRef *corev1.SecretKeySelector `json:"secretRef,omitempty"`
}

// CronSpec configures the cron Deployment.
type CronSpec struct {
	// replicas of the cron Deployment. Usually 1; 0 pauses scheduled actions.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Replicas *int32 `json:"replicas,omitempty"`

	// maxCronThreads is Odoo's max_cron_threads for each cron pod.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	MaxCronThreads *int32 `json:"maxCronThreads,omitempty"`

	// image of the cron pods. Defaults to spec.image.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.matches('\\\\s')",message="must be an image reference without whitespace, e.g. odoo:18.0"
	Image string `json:"image,omitempty"`

	// resources of the cron container. Defaults to the web container's.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// UpgradeFailurePolicy says what to do when a module upgrade fails.
// +kubebuilder:validation:Enum=KeepOldImage;Restore
type UpgradeFailurePolicy string

const (
	// UpgradeFailureKeepOldImage keeps the old image serving the database as the
	// failed upgrade left it.
	UpgradeFailureKeepOldImage UpgradeFailurePolicy = "KeepOldImage"
	// UpgradeFailureRestore restores the restore point taken before the upgrade.
	// Writes made during the upgrade window are lost.
	UpgradeFailureRestore UpgradeFailurePolicy = "Restore"
)

// AutoUpgradeSpec configures module upgrades on image changes.
type AutoUpgradeSpec struct {
	// enabled runs `odoo -u all` in a Job before a new image is rolled out. When
	// disabled, an image change rolls out directly; the annotation
	// bemade.org/upgrade-now still triggers an upgrade.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// maintenanceMode scales cron to 0 while the upgrade Job runs, so no
	// scheduled action competes with the upgrade for locks.
	// +optional
	// +kubebuilder:default=true
	MaintenanceMode *bool `json:"maintenanceMode,omitempty"`

	// timeout bounds the upgrade Job (activeDeadlineSeconds).
	// +optional
	// +kubebuilder:default="30m"
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a positive duration such as 30m or 1h: the upgrade Job needs time to run"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// onFailure is what happens after a failed upgrade: KeepOldImage serves the
	// old image on the database as the upgrade left it; Restore restores the
	// restore point (writes made during the upgrade window are lost).
	// +optional
	// +kubebuilder:default=KeepOldImage
	OnFailure UpgradeFailurePolicy `json:"onFailure,omitempty"`
}

// RollbackSpec configures automatic rollback of a misbehaving new image.
type RollbackSpec struct {
	// enabled turns automatic rollback on.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// errorThreshold is the number of Odoo errors per minute, after a rollout,
	// above which the previous image is restored.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	ErrorThreshold *int32 `json:"errorThreshold,omitempty"`

	// stabilizationPeriod is how long a new image is watched after its rollout.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="must not be negative: a duration such as 10m, or 0s to stop watching right after the rollout"
	StabilizationPeriod *metav1.Duration `json:"stabilizationPeriod,omitempty"`
}

// BackupSpec configures backups.
//
// +kubebuilder:validation:XValidation:rule="!has(self.schedule) || size(self.schedule) == 0 || has(self.destination)",message="spec.backup.destination is required with spec.backup.schedule: say where scheduled backups go (S3 or pvc)"
type BackupSpec struct {
	// beforeUpgrade takes a restore point of the database before every module
	// upgrade: an OdooBackupJob <name>-pre-upgrade-<hash> in dump format, to
	// destination when set, else to the claim <name>-restore-points. It is
	// not a scheduled backup: retention never deletes it.
	// +optional
	// +kubebuilder:default=true
	BeforeUpgrade *bool `json:"beforeUpgrade,omitempty"`

	// schedule takes a backup at these times: a standard 5-field cron
	// expression in UTC, e.g. "0 3 * * *" for 03:00 every day. Each backup is
	// an OdooBackupJob named <instance>-<yyyymmddhhmm>. Empty: no scheduled
	// backups.
	// +optional
	// +kubebuilder:validation:MaxLength=100
	Schedule string `json:"schedule,omitempty"`

	// format of scheduled backups: zip (Odoo's, with the filestore) or dump.
	// +optional
	// +kubebuilder:default=zip
	// +kubebuilder:validation:Enum=zip;dump
	Format BackupFormat `json:"format,omitempty"`

	// destination of scheduled backups. With S3, objectKey is a prefix: each
	// backup asks for <objectKey>/<backup name>.<format>; with a pvc, for
	// <pvc.path>/<backup name>.<format> (pvc.path is a directory here). Like
	// every backup it is stored under <namespace>/<instance>-<uid>/ there,
	// named <backup name>-<backup uid>.<format> (see the OdooBackupJob's
	// status.objectKey).
	// +optional
	Destination *BackupDestination `json:"destination,omitempty"`

	// retention is how many scheduled backups are kept. Older ones are
	// pruned: their stored files are deleted by a Job <backup>-prune, then
	// their OdooBackupJob (see docs/backups.md). The newest good backup is
	// always kept.
	// +optional
	Retention *BackupRetention `json:"retention,omitempty"`
}

// BackupRetention keeps the newest backup of each of the last N days, weeks
// and months, like Odoo.sh (7 daily, 4 weekly, 3 monthly by default).
type BackupRetention struct {
	// daily backups kept.
	// +optional
	// +kubebuilder:default=7
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=366
	Daily *int32 `json:"daily,omitempty"`
	// weekly backups kept.
	// +optional
	// +kubebuilder:default=4
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=520
	Weekly *int32 `json:"weekly,omitempty"`
	// monthly backups kept.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1200
	Monthly *int32 `json:"monthly,omitempty"`
}

// LogMonitoringSpec configures log sampling into status.health.
type LogMonitoringSpec struct {
	// enabled samples web and cron pod logs into status.health.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`
}

// ModulesSpec declares modules the instance must have.
type ModulesSpec struct {
	// install are modules the database must have installed. A module
	// missing from the database is installed through the guarded upgrade
	// path (module snapshot, cron paused, restore point, `odoo -i`,
	// post-check), Odoo resolving its dependencies itself;
	// status.modules.lastInstalled names every module the run added.
	// Removing a name never uninstalls anything. A run that fails is not
	// retried until the list changes or bemade.org/upgrade-now is bumped.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +listType=set
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	Install []string `json:"install,omitempty"`

	// autoInstall is the roadmap's name for install, with the same meaning:
	// the two lists are merged.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +listType=set
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9_]+$`
	// +kubebuilder:validation:items:MaxLength=128
	AutoInstall []string `json:"autoInstall,omitempty"`
}

// OdooInstanceStatus is the observed state of an OdooInstance.
type OdooInstanceStatus struct {
	// observedGeneration is the metadata.generation last reconciled without error.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the instance: Ready, Progressing, Degraded, Stalled,
	// WebAvailable, CronAvailable and the domain conditions of later features.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// phase summarises the conditions for printing.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// readyReplicas is the number of ready web pods.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// selector is the label selector of the web pods, for the scale subresource.
	// +optional
	Selector string `json:"selector,omitempty"`

	// url is where users reach the instance (https://<first host>).
	// +optional
	URL string `json:"url,omitempty"`

	// deployment records the images actually running.
	// +optional
	Deployment DeploymentStatus `json:"deployment,omitempty"`

	// database records the database the instance uses.
	// +optional
	Database *DatabaseStatus `json:"database,omitempty"`

	// upgrade reports the last module upgrade.
	// +optional
	Upgrade *UpgradeStatus `json:"upgrade,omitempty"`

	// health reports errors found in the Odoo logs.
	// +optional
	Health *HealthStatus `json:"health,omitempty"`

	// lastBackup is when the last successful backup completed.
	// +optional
	LastBackup *metav1.Time `json:"lastBackup,omitempty"`

	// filestore records the filestore volume in use and the storage class
	// migration in progress or last failed.
	// +optional
	Filestore *FilestoreStatus `json:"filestore,omitempty"`

	// operation is the one operation that holds the instance's database now
	// (init, upgrade, filestore migration, backup, restore, ...). Operations
	// that change the database or the filestore take it before they start and
	// release it when they end; another operation waits or is refused until
	// then. Empty when nothing runs.
	// +optional
	Operation *OperationStatus `json:"operation,omitempty"`

	// modules reports the Odoo modules of the database: counts by state,
	// pending updates and the modules worth a look (see ModulesStatus).
	// +optional
	Modules *ModulesStatus `json:"modules,omitempty"`
}

// OperationKind names a kind of operation on an instance's database.
// +kubebuilder:validation:Enum=Init;Upgrade;ModuleInstall;FilestoreMigration;Backup;Restore;StagingRefresh;DatabaseMove
type OperationKind string

// The operations that take the instance's database lock.
const (
	OperationInit               OperationKind = "Init"
	OperationUpgrade            OperationKind = "Upgrade"
	OperationModuleInstall      OperationKind = "ModuleInstall"
	OperationFilestoreMigration OperationKind = "FilestoreMigration"
	OperationBackup             OperationKind = "Backup"
	OperationRestore            OperationKind = "Restore"
	OperationStagingRefresh     OperationKind = "StagingRefresh"
	OperationDatabaseMove       OperationKind = "DatabaseMove"
)

// OperationStatus names the operation in progress on an instance: the
// instance's database lock.
type OperationStatus struct {
	// kind is the kind of operation.
	Kind OperationKind `json:"kind"`

	// name is the object driving the operation: the OdooBackupJob or
	// OdooRestoreJob's name, or the instance's own name for operations the
	// instance runs itself (init, upgrade, filestore migration).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`

	// step is the operation's current step, as its own status names it.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Step string `json:"step,omitempty"`

	// started is when the operation took the lock.
	Started metav1.Time `json:"started"`
}

// FilestoreStatus records the filestore claim the instance uses. Changing
// spec.filestore.storageClass migrates the data to a new claim: web and cron
// stop, a Job copies and verifies the files, then the instance switches to the
// new claim. Every step is recorded here, so a migration survives an operator
// restart.
type FilestoreStatus struct {
	// claimName is the PersistentVolumeClaim the web, cron and Job pods mount.
	// Empty means <name>-filestore-pvc.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClaimName string `json:"claimName,omitempty"`

	// storageClass is the class of claimName ("" for the cluster default).
	// +optional
	StorageClass string `json:"storageClass,omitempty"`

	// previousClaim is the claim a successful migration left behind. It is kept
	// (labelled bemade.org/filestore=previous) until the instance is Ready on
	// claimName, then deleted.
	// +optional
	PreviousClaim string `json:"previousClaim,omitempty"`

	// migration is the storage class migration in progress (Copying) or the
	// last one that failed (Failed). A failed migration is not retried until
	// spec.filestore.storageClass changes again.
	// +optional
	Migration *FilestoreMigration `json:"migration,omitempty"`
}

// FilestoreMigrationPhase is where a filestore migration stands.
// +kubebuilder:validation:Enum=Copying;Failed
type FilestoreMigrationPhase string

const (
	// FilestoreMigrationCopying means the tiers are stopped and the copy Job runs.
	FilestoreMigrationCopying FilestoreMigrationPhase = "Copying"
	// FilestoreMigrationFailed means the copy failed; the instance runs on its old
	// claim.
	FilestoreMigrationFailed FilestoreMigrationPhase = "Failed"
)

// FilestoreMigration is one storage class migration of the filestore.
type FilestoreMigration struct {
	// phase of the migration.
	// +optional
	Phase FilestoreMigrationPhase `json:"phase,omitempty"`
	// sourceClaim is the claim the data is copied from.
	// +optional
	SourceClaim string `json:"sourceClaim,omitempty"`
	// targetStorageClass is the spec.filestore.storageClass being migrated to.
	// +optional
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
	// targetClaim is the new claim the data is copied to.
	// +optional
	TargetClaim string `json:"targetClaim,omitempty"`
	// jobName is the copy Job.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// startTime is when the migration started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// message explains the state; on failure, why.
	// +optional
	Message string `json:"message,omitempty"`
}

// DeploymentStatus records which images run, which can differ from spec.image
// after a failed upgrade or a rollback.
type DeploymentStatus struct {
	// currentImage is the image the web pods run.
	// +optional
	CurrentImage string `json:"currentImage,omitempty"`

	// wantedImage is spec.image while it is not currentImage: a rollout or an
	// upgrade in progress, a failed upgrade or a rollback (the old image keeps
	// serving). Empty when the web pods serve spec.image. Printed by
	// `kubectl get odoo` beside currentImage.
	// +optional
	WantedImage string `json:"wantedImage,omitempty"`

	// previousImage is the image that ran before currentImage: the rollback target.
	// +optional
	PreviousImage string `json:"previousImage,omitempty"`

	// cronImage is the image the cron pods run.
	// +optional
	CronImage string `json:"cronImage,omitempty"`

	// previousCronImage is the cron image that ran before cronImage.
	// +optional
	PreviousCronImage string `json:"previousCronImage,omitempty"`

	// rolloutTime is when web was last given a new image: the start of the
	// stabilization period during which a misbehaving image is rolled back.
	// +optional
	RolloutTime *metav1.Time `json:"rolloutTime,omitempty"`

	// rollback is the automatic rollback in force: the image it took away
	// does not run again until spec.image changes.
	// +optional
	Rollback *RollbackStatus `json:"rollback,omitempty"`
}

// RollbackStatus records an automatic rollback.
type RollbackStatus struct {
	// fromImage is the web image taken away.
	// +optional
	FromImage string `json:"fromImage,omitempty"`
	// toImage is the web image restored.
	// +optional
	ToImage string `json:"toImage,omitempty"`
	// toCronImage is the cron image restored.
	// +optional
	ToCronImage string `json:"toCronImage,omitempty"`
	// reason is ErrorRateExceeded, ProgressDeadlineExceeded, CrashLooping or
	// PodsNotReady.
	// +optional
	Reason string `json:"reason,omitempty"`
	// message explains the reason.
	// +optional
	Message string `json:"message,omitempty"`
	// time is when the rollback happened.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// DatabaseStatus records the database the instance uses.
type DatabaseStatus struct {
	// cluster is the PostgreSQL cluster that holds the database.
	// +optional
	Cluster string `json:"cluster,omitempty"`

	// name of the database.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name,omitempty"`

	// initialized is true once Odoo's base module is installed in the database.
	// +optional
	Initialized bool `json:"initialized,omitempty"`

	// series is the Odoo series of the database (e.g. 18.0), from the
	// installed version of its base module; read with status.modules.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Series string `json:"series,omitempty"`

	// move is the last move of the database to another PostgreSQL cluster
	// (a change of spec.database.cluster), absent when there was none.
	// +optional
	Move *DatabaseMove `json:"move,omitempty"`
}

// UpgradePhase is the phase of a module upgrade.
// +kubebuilder:validation:Enum=Pending;Running;Success;Failed
type UpgradePhase string

// Upgrade phases, as the roadmap shows them.
const (
	UpgradePending UpgradePhase = "Pending"
	UpgradeRunning UpgradePhase = "Running"
	UpgradeSuccess UpgradePhase = "Success"
	UpgradeFailed  UpgradePhase = "Failed"
)

// UpgradeStatus reports the last module upgrade.
type UpgradeStatus struct {
	// phase of the upgrade.
	// +optional
	Phase UpgradePhase `json:"phase,omitempty"`
	// startTime is when the upgrade started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the upgrade ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// duration of the upgrade, e.g. 25m0s.
	// +optional
	Duration string `json:"duration,omitempty"`
	// imageAttempted is the image the upgrade ran with.
	// +optional
	ImageAttempted string `json:"imageAttempted,omitempty"`
	// imageCurrent is the image serving the instance.
	// +optional
	ImageCurrent string `json:"imageCurrent,omitempty"`
	// message explains the outcome; on failure it names the failing module.
	// +optional
	Message string `json:"message,omitempty"`

	// step is where a running upgrade stands. It is written before the step is
	// carried out, so an operator restart resumes the upgrade where it stood.
	// +optional
	Step UpgradeStep `json:"step,omitempty"`
	// trigger is what started the upgrade: Image (spec.image or
	// spec.cron.image changed), Annotation (bemade.org/upgrade-now) or
	// OdooUpgradeJob/<name>.
	// +optional
	// +kubebuilder:validation:MaxLength=300
	Trigger string `json:"trigger,omitempty"`
	// request is the last bemade.org/upgrade-now value acted on: a new value
	// runs one upgrade, the same value never runs again.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Request string `json:"request,omitempty"`
	// fromImage is the web image that served before the upgrade; it keeps
	// serving until the upgrade succeeds, and after a failure.
	// +optional
	FromImage string `json:"fromImage,omitempty"`
	// fromCronImage is the cron image that ran before the upgrade.
	// +optional
	FromCronImage string `json:"fromCronImage,omitempty"`
	// cronImageAttempted is the cron image rolled out when the upgrade succeeds.
	// +optional
	CronImageAttempted string `json:"cronImageAttempted,omitempty"`
	// jobName is the upgrade Job (deterministic from instance, image and trigger).
	// +optional
	JobName string `json:"jobName,omitempty"`
	// restorePointBackup is the OdooBackupJob (same namespace) holding the
	// restore point taken before the upgrade Job ran: a dump-format backup of
	// the database, without the filestore (an upgrade does not rewrite it), in
	// spec.backup.destination or on the claim <name>-restore-points. onFailure
	// Restore loads it. Empty when spec.backup.beforeUpgrade is false.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	RestorePointBackup string `json:"restorePointBackup,omitempty"`
	// modules are the modules updated (`-u`); empty means all.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Modules []string `json:"modules,omitempty"`
	// modulesInstall are modules installed (`-i`) by the same run.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	ModulesInstall []string `json:"modulesInstall,omitempty"`
	// failed is set once the upgrade is judged failed, while the failure policy
	// is carried out (Restore); phase becomes Failed when it is done.
	// +optional
	Failed bool `json:"failed,omitempty"`
	// keptDatabase is the database a Restore renamed aside: the state the
	// failed upgrade left, kept for inspection and never dropped by the operator.
	// +optional
	KeptDatabase string `json:"keptDatabase,omitempty"`
}

// UpgradeStep is one step of the upgrade state machine.
// +kubebuilder:validation:Enum=Snapshot;StopCron;RestorePoint;Upgrade;Verify;Rollout;Restore;Done
type UpgradeStep string

// Upgrade steps, in order. Restore runs only after a failure with
// onFailure Restore.
const (
	// UpgradeStepSnapshot records the module versions from ir_module_module.
	UpgradeStepSnapshot UpgradeStep = "Snapshot"
	// UpgradeStepStopCron scales cron to 0 and waits for its pods to end.
	UpgradeStepStopCron UpgradeStep = "StopCron"
	// UpgradeStepRestorePoint backs the database up (an OdooBackupJob) before
	// it is touched.
	UpgradeStepRestorePoint UpgradeStep = "RestorePoint"
	// UpgradeStepUpgrade runs `odoo -u` in a Job with the new image.
	UpgradeStepUpgrade UpgradeStep = "Upgrade"
	// UpgradeStepVerify judges the Job by exit code, log and ir_module_module.
	UpgradeStepVerify UpgradeStep = "Verify"
	// UpgradeStepRollout rolls web and cron to the new image.
	UpgradeStepRollout UpgradeStep = "Rollout"
	// UpgradeStepRestore loads the restore point backup into a new database and swaps
	// it in place of the live one.
	UpgradeStepRestore UpgradeStep = "Restore"
	// UpgradeStepDone means the upgrade ended; phase says how.
	UpgradeStepDone UpgradeStep = "Done"
)

// HealthStatus reports errors found in the Odoo logs.
type HealthStatus struct {
	// status is Healthy or Degraded.
	// +optional
	Status string `json:"status,omitempty"`
	// errorCount is the number of errors in the sampling window.
	// +optional
	ErrorCount int32 `json:"errorCount,omitempty"`
	// lastErrorTime is when the newest error was logged.
	// +optional
	LastErrorTime *metav1.Time `json:"lastErrorTime,omitempty"`
	// errors are the newest distinct errors, newest first.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	Errors []HealthError `json:"errors,omitempty"`
}

// HealthError is one distinct error found in the logs.
type HealthError struct {
	// timestamp of the newest occurrence.
	// +optional
	Timestamp *metav1.Time `json:"timestamp,omitempty"`
	// level is the Odoo log level: ERROR or CRITICAL, INFO or WARNING for a
	// worker or thread past its memory, CPU or time limit, empty for a line
	// without Odoo's prefix.
	// +optional
	Level string `json:"level,omitempty"`
	// message is the error line.
	// +optional
	Message string `json:"message,omitempty"`
	// category classifies the error, e.g. DatabaseSchema.
	// +optional
	Category string `json:"category,omitempty"`
	// count of occurrences in the window.
	// +optional
	Count int32 `json:"count,omitempty"`
}

// Phase is the printable summary of an instance's conditions and of the
// operation in progress.
// +kubebuilder:validation:Enum=Pending;Initializing;Running;Upgrading;Restoring;Migrating;RollingBack;Degraded;Stopped;Failed
type Phase string

// Phases, derived from conditions and status.operation (see the controller's
// status computation).
const (
	PhasePending      Phase = "Pending"
	PhaseInitializing Phase = "Initializing"
	PhaseRunning      Phase = "Running"
	// PhaseUpgrading: a module upgrade (or module install) runs.
	PhaseUpgrading Phase = "Upgrading"
	// PhaseRestoring: a restore swaps the database (an OdooRestoreJob, a
	// staging refresh, or the restore point of a failed upgrade).
	PhaseRestoring Phase = "Restoring"
	// PhaseMigrating: the filestore (or the database) moves to new storage.
	PhaseMigrating Phase = "Migrating"
	// PhaseRollingBack: an automatic rollback brings the previous image back
	// and it does not serve yet.
	PhaseRollingBack Phase = "RollingBack"
	PhaseDegraded    Phase = "Degraded"
	PhaseStopped     Phase = "Stopped"
	PhaseFailed      Phase = "Failed"
)

// OdooInstance is an Odoo deployment: database, filestore, web and cron
// Deployments, Service and Ingress, kept in the declared state by the operator.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.readyReplicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=odoo,categories=odoo-all
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.deployment.currentImage`,description="The image the web pods serve"
// +kubebuilder:printcolumn:name="Wanted",type=string,JSONPath=`.status.deployment.wantedImage`,description="spec.image while it is not the image that serves"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Backup",type=string,JSONPath=`.status.conditions[?(@.type=="BackupSucceeded")].status`,priority=1
// +kubebuilder:printcolumn:name="Modules",type=integer,JSONPath=`.status.modules.installed`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.spec.database) || !has(oldSelf.spec.database.name) || (has(self.spec.database) && has(self.spec.database.name) && (self.spec.database.name == oldSelf.spec.database.name || (has(self.status) && has(self.status.database) && has(self.status.database.name) && self.spec.database.name == self.status.database.name)))",message="spec.database.name is immutable once set: changing it would point the instance at another database; it can only be set back to the database in use (status.database.name); to move the data, restore a backup into a new instance",fieldPath=".spec.database.name"
type OdooInstance struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the instance.
	// +required
	Spec OdooInstanceSpec `json:"spec"`

	// status is the observed state of the instance.
	// +optional
	Status OdooInstanceStatus `json:"status,omitempty"`
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

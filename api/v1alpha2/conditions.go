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
)

// Event reasons, emitted on transitions only.
const (
	// EventInstanceReady is emitted when the instance becomes Ready.
	EventInstanceReady = "InstanceReady"
	// EventInstanceNotReady is emitted when a Ready instance stops being Ready.
	EventInstanceNotReady = "InstanceNotReady"
	// EventDeploymentUpdated is emitted when a new image is rolled out.
	EventDeploymentUpdated = "DeploymentUpdated"
	// EventReconcileFailed is emitted when the instance becomes Degraded or Stalled.
	EventReconcileFailed = "ReconcileFailed"
)

// Annotations and labels the operator reads or writes.
const (
	// AnnotationConfigHash on pod templates holds a hash of odoo.conf, so a
	// configuration change rolls the pods.
	AnnotationConfigHash = "bemade.org/odoo-conf-hash"
	// AnnotationUpgradeNow triggers one module upgrade per new value.
	AnnotationUpgradeNow = "bemade.org/upgrade-now"
	// LabelInstance names the OdooInstance a child object belongs to.
	LabelInstance = "bemade.org/instance"
	// LabelApp is the legacy selector label (app=<name>, app=<name>-cron), kept
	// so Deployments created by the reference operator can be adopted: a
	// Deployment's selector is immutable.
	LabelApp = "app"
)

package resources

import (
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Job kinds of the upgrade machinery (its restore point is an OdooBackupJob,
// whose Job is of kind JobKindBackup).
const (
	JobKindUpgrade = "upgrade"
	JobKindRestore = "restore"
)

// toolsMountPath is where the operator binary is copied for data Jobs.
const toolsMountPath = "/odoo-operator"

// UpgradeJobName is deterministic from the instance, the images, the trigger
// and the upgrade's start time, all recorded in status.upgrade before the Job
// is created: a resumed upgrade finds its Job, a new upgrade of the same image
// (after a failure and a new request) gets a new one.
func UpgradeJobName(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) string {
	return withSuffix(inst.Name, "-upgrade-"+upgradeHash(st))
}

// RestoreJobName is the Job that loads an upgrade's restore point backup.
func RestoreJobName(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) string {
	return withSuffix(inst.Name, "-restore-"+upgradeHash(st))
}

// ModuleSnapshotName is the ConfigMap holding the module versions recorded
// before an upgrade (names and versions only: nothing secret).
func ModuleSnapshotName(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) string {
	return withSuffix(inst.Name, "-modules-"+upgradeHash(st))
}

// RestoreDatabaseName is the database a restore point is loaded into before
// it replaces the live one.
func RestoreDatabaseName(live string, st *odoov1alpha2.UpgradeStatus) string {
	return pgWithSuffix(live, "_restore_"+upgradeHash(st))
}

// KeptDatabaseName is the name the live database gets when a restore replaces
// it: the state the failed upgrade left, kept for inspection.
func KeptDatabaseName(live string, st *odoov1alpha2.UpgradeStatus) string {
	return pgWithSuffix(live, "_failed_"+upgradeHash(st))
}

// pgWithSuffix appends suffix, shortening name so the result fits
// PostgreSQL's 63-byte identifiers.
func pgWithSuffix(name, suffix string) string {
	if len(name)+len(suffix) > postgresMaxName {
		name = name[:postgresMaxName-len(suffix)]
	}
	return name + suffix
}

func upgradeHash(st *odoov1alpha2.UpgradeStatus) string {
	start := ""
	if st.StartTime != nil {
		start = strconv.FormatInt(st.StartTime.Unix(), 10)
	}
	return hash8(st.ImageAttempted, st.CronImageAttempted, st.Trigger, st.Request, start)
}

// UpgradeInputs are what an upgrade Job is built from.
type UpgradeInputs struct {
	Instance *odoov1alpha2.OdooInstance
	Upgrade  *odoov1alpha2.UpgradeStatus
	Database string
	ConfHash string
	// FilestoreClaim is the claim mounted; empty means FilestoreClaimName.
	FilestoreClaim string
	// Timeout bounds the Job (activeDeadlineSeconds).
	Timeout time.Duration
	// DBCA mounts the cluster's CA for libpq (see WorkloadInputs.DBCA).
	DBCA bool
}

// UpgradeModules is the comma list given to `odoo -u`: the request's modules,
// or all.
func UpgradeModules(modules []string) string {
	if len(modules) == 0 {
		return "all"
	}
	return strings.Join(modules, ",")
}

// UpgradeJob runs `odoo -u all --stop-after-init --no-http -d <db>` with the
// attempted image. backoffLimit 0: Odoo commits after every module, so a
// blind retry would continue on a half-upgraded database; the controller
// judges the one run instead.
func UpgradeJob(in UpgradeInputs) *batchv1ac.JobApplyConfiguration {
	inst, st := in.Instance, in.Upgrade
	var args []string
	if st.Trigger != odoov1alpha2.UpgradeTriggerModules {
		// An install run (spec.modules.install) installs, nothing else.
		args = []string{"-u", UpgradeModules(st.Modules)}
	}
	if len(st.ModulesInstall) > 0 {
		args = append(args, "-i", strings.Join(st.ModulesInstall, ","))
	}
	args = append(args, "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", in.Database)
	container := odooContainer(inst, st.ImageAttempted, webResources(inst)).
		WithCommand(OdooCommand()...).
		WithArgs(args...).
		WithEnv(mergeEnv(inst, nil)...)
	claim := in.FilestoreClaim
	if claim == "" {
		claim = FilestoreClaimName(inst)
	}
	labels := Labels(inst, JobKindUpgrade)
	labels[JobKindLabel] = JobKindUpgrade
	pod := podSpec(inst, 60, container, claim).WithRestartPolicy(corev1.RestartPolicyNever)
	withDBCA(pod, inst, in.DBCA)
	withScheduling(pod, inst, labels)
	spec := batchv1ac.JobSpec().
		WithBackoffLimit(0).
		WithTTLSecondsAfterFinished(7 * 24 * 3600).
		WithTemplate(corev1ac.PodTemplateSpec().
			WithLabels(labels).
			WithAnnotations(map[string]string{odoov1alpha2.AnnotationConfigHash: in.ConfHash}).
			WithSpec(pod))
	if in.Timeout > 0 {
		spec.WithActiveDeadlineSeconds(int64(in.Timeout / time.Second))
	}
	return batchv1ac.Job(st.JobName, inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(spec)
}

// DataJobInputs are what a data Job (backup, restore) is built from.
type DataJobInputs struct {
	Instance *odoov1alpha2.OdooInstance
	Name     string
	Kind     string
	// OperatorImage holds the operator binary, copied in by an init container.
	OperatorImage string
	// ClientImage provides pg_dump/pg_restore matching the server's major version.
	ClientImage string
	// Args follow `odoo-operator data`.
	Args []string
	// Host, Port, SSLMode and Database are the libpq connection; the
	// credentials come from the instance's user Secret by secretKeyRef.
	Host     string
	Port     int32
	SSLMode  string
	Database string
	// Owner owns the Job; nil means the instance.
	Owner *metav1ac.OwnerReferenceApplyConfiguration
	// Env is added to the data container's environment.
	Env []*corev1ac.EnvVarApplyConfiguration
	// Volumes and Mounts give the data container its storage.
	Volumes []*corev1ac.VolumeApplyConfiguration
	Mounts  []*corev1ac.VolumeMountApplyConfiguration
	// NoDatabase leaves the libpq environment out: the command never
	// connects, so the Job needs neither the server nor the credentials.
	NoDatabase bool
	// Deadline is the Job's activeDeadlineSeconds; 0 means
	// DefaultDataJobDeadline.
	Deadline time.Duration
	// DBCA mounts the cluster's CA for libpq and pgx (PGSSLROOTCERT).
	DBCA bool
}

// DefaultDataJobDeadline bounds every data Job (operator flag
// --data-job-deadline): a Job that hangs, or that a hostile archive keeps
// busy, is stopped by Kubernetes and reported as DeadlineExceeded.
const DefaultDataJobDeadline = 6 * time.Hour

// dataJobDeadlineSeconds is d in whole seconds, at least one.
func dataJobDeadlineSeconds(d time.Duration) int64 {
	if d <= 0 {
		d = DefaultDataJobDeadline
	}
	return max(int64(d/time.Second), 1)
}

// DataJob runs `odoo-operator data <args>` in a PostgreSQL client image, the
// way CloudNativePG runs its own binary beside the server's tools: an init
// container copies the binary into a shared volume. The data code is the
// project's own, tested against a real PostgreSQL; the Job only supplies
// pg_dump and pg_restore of the server's major version.
func DataJob(in DataJobInputs) *batchv1ac.JobApplyConfiguration {
	inst := in.Instance
	env := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName("PGHOST").WithValue(in.Host),
		corev1ac.EnvVar().WithName("PGPORT").WithValue(strconv.Itoa(int(in.Port))),
		corev1ac.EnvVar().WithName("PGDATABASE").WithValue(in.Database),
		corev1ac.EnvVar().WithName("PGUSER").WithValueFrom(secretKey(UserSecretName(inst), UserSecretUsernameKey)),
		corev1ac.EnvVar().WithName("PGPASSWORD").WithValueFrom(secretKey(UserSecretName(inst), UserSecretPasswordKey)),
	}
	if in.SSLMode != "" {
		env = append(env, corev1ac.EnvVar().WithName("PGSSLMODE").WithValue(in.SSLMode))
	}
	if in.NoDatabase {
		env = nil
	}
	env = append(env, in.Env...)
	tools := corev1ac.VolumeMount().WithName("tools").WithMountPath(toolsMountPath)
	binary := toolsMountPath + "/odoo-operator"
	copier := corev1ac.Container().
		WithName("install-tools").
		WithImage(in.OperatorImage).
		WithCommand("/odoo-operator", "copy-binary", binary).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(tools)
	worker := corev1ac.Container().
		WithName("data").
		WithImage(in.ClientImage).
		WithCommand(append([]string{binary, "data"}, in.Args...)...).
		WithEnv(env...).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(tools)
	worker.WithVolumeMounts(in.Mounts...)
	volumes := append([]*corev1ac.VolumeApplyConfiguration{corev1ac.Volume().WithName("tools").WithEmptyDir(corev1ac.EmptyDirVolumeSource())},
		in.Volumes...)
	owner := in.Owner
	if owner == nil {
		owner = OwnerReference(inst)
	}
	labels := Labels(inst, in.Kind)
	labels[JobKindLabel] = in.Kind
	labels[DataJobLabel] = "true"
	pod := corev1ac.PodSpec().
		WithEnableServiceLinks(false).
		WithRestartPolicy(corev1.RestartPolicyNever).
		WithSecurityContext(restrictedPodSecurity()).
		WithInitContainers(copier).
		WithContainers(worker).
		WithVolumes(volumes...)
	withDBCA(pod, inst, in.DBCA && !in.NoDatabase)
	withScheduling(pod, inst, labels)
	return batchv1ac.Job(in.Name, inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(owner).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithActiveDeadlineSeconds(dataJobDeadlineSeconds(in.Deadline)).
			WithTTLSecondsAfterFinished(7 * 24 * 3600).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(pod)))
}

func secretKey(name, key string) *corev1ac.EnvVarSourceApplyConfiguration {
	return corev1ac.EnvVarSource().WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(name).WithKey(key))
}

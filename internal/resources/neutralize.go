package resources

import (
	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindNeutralize marks the `odoo neutralize` Job of an OdooRestoreJob.
const JobKindNeutralize = "neutralize"

// neutralizeDeadline bounds the neutralize Job: it runs a few SQL scripts,
// so a Job still running after that is stuck (a lock, an unreachable server).
const neutralizeDeadline = 30 * 60

// NeutralizeJobName is the one neutralize Job of an OdooRestoreJob.
func NeutralizeJobName(rj *odoov1alpha2.OdooRestoreJob) string {
	return withSuffix(rj.Name, "-neutralize")
}

// NeutralizeInputs are what a neutralize Job is built from.
type NeutralizeInputs struct {
	Instance *odoov1alpha2.OdooInstance
	Restore  *odoov1alpha2.OdooRestoreJob
	// Database is the restored database, not yet swapped in.
	Database string
	// DBCA mounts the cluster's CA for libpq (see WorkloadInputs.DBCA).
	DBCA bool
}

// NeutralizeJob runs `odoo neutralize -d <database>` with the instance's
// image, wired to the database like the init and upgrade Jobs: odoo.conf
// from the instance's Secret (so credentials reach it only there), the
// filestore claim at data_dir, spec.extraEnv. The OdooRestoreJob owns it.
// backoffLimit 0: the operator checks the database after the Job and
// refuses the restore when it is not neutralized, never retries blindly.
func NeutralizeJob(in NeutralizeInputs) *batchv1ac.JobApplyConfiguration {
	inst, rj := in.Instance, in.Restore
	container := odooContainer(inst, inst.Spec.Image, webResources(inst)).
		WithCommand(OdooCommand("neutralize")...).
		WithArgs("-d", in.Database).
		WithEnv(mergeEnv(inst, nil)...)
	labels := Labels(inst, JobKindNeutralize)
	labels[JobKindLabel] = JobKindNeutralize
	pod := podSpec(inst, 60, container, FilestoreClaimName(inst)).WithRestartPolicy(corev1.RestartPolicyNever)
	withDBCA(pod, inst, in.DBCA)
	withScheduling(pod, inst, labels)
	return batchv1ac.Job(NeutralizeJobName(rj), inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(jobOwner("OdooRestoreJob", rj.Name, rj.UID)).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithActiveDeadlineSeconds(neutralizeDeadline).
			WithTTLSecondsAfterFinished(7 * 24 * 3600).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(pod)))
}

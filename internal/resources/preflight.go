package resources

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindPreflight is the Job that lists what a new image ships.
const JobKindPreflight = "preflight"

// PreflightDeadlineSeconds bounds the preflight Job: listing manifests takes
// seconds; an image that cannot be pulled is judged by its pod long before.
const PreflightDeadlineSeconds = 300

// PreflightModulesEnv carries the names of the modules the database has
// installed into the preflight Job (names only: nothing secret).
const PreflightModulesEnv = "ODOO_OPERATOR_PREFLIGHT_MODULES"

// PreflightLinePrefix starts each line the preflight prints about one
// module (a JSON object); PreflightEndPrefix the last line, with the count,
// so a log cut short is not read as a complete listing.
const (
	PreflightLinePrefix = "odoo-operator-preflight: "
	PreflightEndPrefix  = "odoo-operator-preflight-end: "
)

// PreflightJobName is deterministic from the upgrade, like its other Jobs.
func PreflightJobName(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) string {
	return withSuffix(inst.Name, "-preflight-"+upgradeHash(st))
}

// preflightScript runs in `odoo shell` without a database: it reads the
// manifests of the modules named in PreflightModulesEnv and of their
// dependencies from the image's add-ons path, and prints one line each.
// Odoo's shell runs its standard input when it is not a terminal.
const preflightScript = `import json, os
from odoo.modules.module import get_manifest
todo = [n for n in os.environ.get("` + PreflightModulesEnv + `", "").split(",") if n]
seen = set()
count = 0
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    m = get_manifest(name)
    if not m:
        continue
    deps = list(m.get("depends", []))
    todo.extend(deps)
    count += 1
    print("` + PreflightLinePrefix + `" + json.dumps({"name": name, "version": m.get("version", ""), "depends": deps, "installable": bool(m.get("installable", True))}), flush=True)
print("` + PreflightEndPrefix + `%d" % count, flush=True)
`

// PreflightInputs are what a preflight Job is built from.
type PreflightInputs struct {
	Instance *odoov1alpha2.OdooInstance
	Upgrade  *odoov1alpha2.UpgradeStatus
	// Installed are the modules the database has installed.
	Installed []string
}

// preflightAddonsEnv carries the add-ons path into the preflight script.
const preflightAddonsEnv = "ODOO_OPERATOR_ADDONS_PATH"

// PreflightJob lists, with the upgrade's new image, the manifests of the
// modules the database has installed. It never connects to the database:
// its config file holds the add-ons path odoo.conf gives the instance's
// pods and nothing else (no database, no credential), it mounts no Secret
// and no claim, only a scratch directory.
func PreflightJob(in PreflightInputs) *batchv1ac.JobApplyConfiguration {
	inst, st := in.Instance, in.Upgrade
	names := slices.Clone(in.Installed)
	slices.Sort(names)
	// The add-ons path goes through a config file: on the command line Odoo
	// refuses a directory without add-ons (the image's empty
	// /mnt/extra-addons), in a file it does not.
	script := `printf '[options]\naddons_path = %s\n' "$` + preflightAddonsEnv + `" > /tmp/odoo-operator-preflight.conf && ` +
		"odoo shell -c /tmp/odoo-operator-preflight.conf --no-http --log-level=warn <<'ODOO_OPERATOR_PREFLIGHT'\n" + preflightScript + "ODOO_OPERATOR_PREFLIGHT\n"
	container := corev1ac.Container().
		WithName(ContainerName).
		WithImage(st.ImageAttempted).
		WithCommand("sh", "-c", script).
		WithEnv(
			corev1ac.EnvVar().WithName(preflightAddonsEnv).WithValue(addonsPath(inst)),
			corev1ac.EnvVar().WithName(PreflightModulesEnv).WithValue(strings.Join(names, ",")),
		).
		WithResources(resourcesApply(corev1.ResourceRequirements{
			Requests: DefaultResources().Requests, Limits: DefaultResources().Limits,
		})).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(corev1ac.VolumeMount().WithName("tmp").WithMountPath("/tmp"))
	labels := Labels(inst, JobKindPreflight)
	labels[JobKindLabel] = JobKindPreflight
	pod := corev1ac.PodSpec().
		WithEnableServiceLinks(false).
		WithAutomountServiceAccountToken(false).
		WithTerminationGracePeriodSeconds(5).
		WithSecurityContext(restrictedPodSecurity()).
		WithRestartPolicy(corev1.RestartPolicyNever).
		WithContainers(container).
		WithVolumes(corev1ac.Volume().WithName("tmp").WithEmptyDir(corev1ac.EmptyDirVolumeSource()))
	if inst.Spec.ImagePullSecret != "" {
		pod.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(inst.Spec.ImagePullSecret))
	}
	return batchv1ac.Job(PreflightJobName(inst, st), inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithActiveDeadlineSeconds(PreflightDeadlineSeconds).
			WithTTLSecondsAfterFinished(24 * 3600).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(pod)))
}

// addonsPath is the add-ons path odoo.conf gives the instance's pods.
func addonsPath(inst *odoov1alpha2.OdooInstance) string {
	if v, ok := inst.Spec.ConfigOptions["addons_path"]; ok && v != "" {
		return string(v)
	}
	return defaultAddonsPath
}

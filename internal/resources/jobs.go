package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Labels on Odoo Jobs.
const (
	// JobKindLabel says what an Odoo Job does (init, upgrade, backup, restore).
	JobKindLabel = "bemade.org/job"
	// JobKindInit marks database initialisation Jobs.
	JobKindInit = "init"
	// DataJobLabel ("true") marks every Job, and its pods, that runs the
	// operator binary's `data` subcommand (DataJob sets it), whatever its
	// kind: the sandbox's Job player runs exactly those pods for real.
	DataJobLabel = "bemade.org/data-job"
)

// InitInputs are what an init Job is built from. Everything that changes
// what the Job does is part of its name, so a new request gets a new Job and
// an old one is never rerun: Jobs are create-only.
type InitInputs struct {
	Instance *odoov1alpha2.OdooInstance
	Image    string
	Database string
	Modules  []string
	Demo     bool
	ConfHash string
	// FilestoreClaim is the claim mounted; empty means FilestoreClaimName.
	// Not part of the Job's name: it does not change what the Job does.
	FilestoreClaim string
	// DBCA mounts the cluster's CA for libpq (see WorkloadInputs.DBCA).
	DBCA bool
}

// InitModules is the comma list given to `odoo -i`: spec.init.modules, or base.
func InitModules(modules []string) string {
	if len(modules) == 0 {
		return "base"
	}
	return strings.Join(modules, ",")
}

// InitJobName is deterministic from the instance and the inputs that change
// the Job's work, e.g. shop-init-1a2b3c4d.
func InitJobName(in InitInputs) string {
	demo := "nodemo"
	if in.Demo {
		demo = "demo"
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{in.Image, in.Database, InitModules(in.Modules), demo}, "\x00")))
	suffix := "-init-" + hex.EncodeToString(sum[:])[:8]
	name := in.Instance.Name
	if len(name)+len(suffix) > 63 {
		name = strings.TrimRight(name[:63-len(suffix)], "-.")
	}
	return name + suffix
}

// InitJob installs the base modules into a new database:
// `odoo -i <modules> --stop-after-init --no-http -d <db>`, without demo data
// unless asked. It mounts the same odoo.conf Secret and filestore as the web
// pods, so credentials reach it only through the Secret. backoffLimit 0: a
// failed init is reported with its reason and the database kept for
// inspection, not retried blindly.
func InitJob(in InitInputs) *batchv1ac.JobApplyConfiguration {
	inst := in.Instance
	args := []string{"-i", InitModules(in.Modules), "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", in.Database}
	if !in.Demo {
		// Odoo <= 18 loads demo data unless told otherwise; 19 ignores the value.
		args = append(args, "--without-demo=all")
	}
	container := odooContainer(inst, in.Image, webResources(inst)).
		WithCommand(OdooCommand()...).
		WithArgs(args...).
		WithEnv(mergeEnv(inst, nil)...)
	name := InitJobName(in)
	labels := Labels(inst, "init")
	labels[JobKindLabel] = JobKindInit
	claim := in.FilestoreClaim
	if claim == "" {
		claim = FilestoreClaimName(inst)
	}
	pod := podSpec(inst, 60, container, claim).WithRestartPolicy(corev1.RestartPolicyNever)
	withDBCA(pod, inst, in.DBCA)
	withScheduling(pod, inst, labels)
	return batchv1ac.Job(name, inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithTTLSecondsAfterFinished(7 * 24 * 3600).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(labels).
				WithAnnotations(map[string]string{odoov1alpha2.AnnotationConfigHash: in.ConfHash}).
				WithSpec(pod)))
}

// JobOutcome is what a finished (or running) Job says.
type JobOutcome struct {
	Done, Failed bool
	// Message explains a failure: the Job condition and the container's exit.
	Message string
}

// FinishedCondition is the Job's Complete or Failed condition once one is
// true, nil while the Job runs.
func FinishedCondition(job *batchv1.Job) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

// InitJobOutcome reads a Job's conditions and, for a failure, the terminated
// state of its pod's container.
func InitJobOutcome(job *batchv1.Job, pods []corev1.Pod) JobOutcome {
	if c := FinishedCondition(job); c != nil {
		switch c.Type {
		case batchv1.JobComplete:
			return JobOutcome{Done: true}
		case batchv1.JobFailed:
			msg := "Job " + job.Name + " failed: " + c.Reason
			if c.Message != "" {
				msg += " (" + c.Message + ")"
			}
			for _, p := range pods {
				for _, cs := range p.Status.ContainerStatuses {
					if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
						msg += "; container " + cs.Name + " exited with code " + strconv.Itoa(int(t.ExitCode))
						if t.Reason != "" {
							msg += " (" + t.Reason + ")"
						}
						if t.Message != "" {
							msg += ": " + t.Message
						}
					}
				}
			}
			return JobOutcome{Done: true, Failed: true, Message: msg}
		}
	}
	return JobOutcome{}
}

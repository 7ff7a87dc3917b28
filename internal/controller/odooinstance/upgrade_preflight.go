package odooinstance

import (
	"context"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/modules"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// DefaultPreflightPullTimeout is how long a preflight pod may fail to pull
// the new image before the upgrade is refused (--preflight-pull-timeout):
// long enough for a registry's passing hiccup and a retry, short enough
// that a wrong tag is reported in minutes.
const DefaultPreflightPullTimeout = 2 * time.Minute

// preflightLogLimit bounds the log read from a preflight pod: a listing of
// a few thousand modules is well under it.
const preflightLogLimit = 4 << 20

// maxPreflightModules bounds the installed modules sent to the preflight
// Job (in its environment); the module table is the tenant's.
const maxPreflightModules = 5000

// preflightNeeded: the upgrade changes the web image, and preflights run.
func (r *Reconciler) preflightNeeded(st *odoov1alpha2.UpgradeStatus) bool {
	return r.UpgradePreflight && st.ImageAttempted != st.FromImage
}

// preflightState observes the preflight Job of the upgrade: its state, and
// for a finished or stuck one, why the upgrade is refused ("" to go on).
func (r *Reconciler) preflightState(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) (upgrade.JobState, string, error) {
	inst := s.instance
	name := resources.PreflightJobName(inst, st)
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: name}, job)
	switch {
	case apierrors.IsNotFound(err):
		return upgrade.JobAbsent, "", nil
	case err != nil:
		return upgrade.JobAbsent, "", err
	}
	list := &corev1.PodList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabels{"job-name": name}); err != nil {
		return upgrade.JobAbsent, "", err
	}
	state := datajob.OutcomeOf(job)
	switch state {
	case upgrade.JobRunning:
		timeout := r.PreflightPullTimeout
		if timeout <= 0 {
			timeout = DefaultPreflightPullTimeout
		}
		if msg := pullFailure(list.Items, time.Now(), timeout); msg != "" {
			return upgrade.JobFailed, fmt.Sprintf("preflight refused: the new image %s cannot be pulled: %s; nothing was touched, %s keeps serving: fix spec.image (or spec.imagePullSecret)",
				st.ImageAttempted, msg, st.FromImage), nil
		}
		return state, "", nil
	case upgrade.JobFailed:
		outcome := resources.InitJobOutcome(job, list.Items)
		return state, fmt.Sprintf("preflight refused: listing the modules of %s failed (%s); nothing was touched, %s keeps serving",
			st.ImageAttempted, outcome.Message, st.FromImage), nil
	}
	refusal, err := r.judgePreflight(ctx, inst, st, list.Items)
	return state, refusal, err
}

// judgePreflight compares the listing the succeeded preflight printed with
// the module snapshot taken just before.
func (r *Reconciler) judgePreflight(ctx context.Context, inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus, pods []corev1.Pod) (string, error) {
	if r.PodLogs == nil || len(pods) == 0 {
		return "", nil
	}
	pod := newestPod(pods)
	data, err := r.PodLogs.Read(ctx, inst.Namespace, pod.Name, resources.ContainerName, preflightLogLimit)
	var shipped []modules.Shipped
	if err == nil {
		shipped, err = modules.ParseListing(data, resources.PreflightLinePrefix, resources.PreflightEndPrefix)
	}
	if err != nil {
		// Exit 0 without a readable listing (the log is gone, or the image
		// prints none): the preflight protects the tenant from its own
		// image, it is no boundary, and the guarded upgrade (restore
		// point, exit code, log and post-check) still judges the run.
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.ReasonPreflightInconclusive, "Preflight",
			"the preflight of %s gave no module listing (%s); the upgrade goes on, guarded as usual", st.ImageAttempted, truncate(err.Error(), 256))
		return "", nil
	}
	before, err := r.readSnapshot(ctx, inst, st)
	if err != nil {
		return "", err
	}
	allow := inst.Annotations[odoov1alpha2.AnnotationAllowSeriesChange] == st.ImageAttempted
	problems := modules.Compare(before, shipped, allow)
	if len(problems) == 0 {
		return "", nil
	}
	parts := make([]string, 0, len(problems))
	for _, p := range problems {
		parts = append(parts, p.Reason+": "+p.Message)
	}
	return fmt.Sprintf("preflight refused %s, nothing was touched and %s keeps serving: %s", st.ImageAttempted, st.FromImage, strings.Join(parts, "; ")), nil
}

// pullFailure is the registry's message when a pod of the preflight has
// been failing to pull its image for longer than timeout ("" otherwise).
// Kubernetes retries a failed pull for ever; the upgrade does not wait.
func pullFailure(pods []corev1.Pod, now time.Time, timeout time.Duration) string {
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
			default:
				continue
			}
			if now.Sub(p.CreationTimestamp.Time) < timeout && w.Reason != "InvalidImageName" {
				continue
			}
			msg := w.Reason
			if w.Message != "" {
				msg += ": " + truncate(w.Message, 512)
			}
			return msg
		}
	}
	return ""
}

// createPreflightJob starts the listing of the new image's modules: the
// names the snapshot recorded as in the database, never a credential.
func (r *Reconciler) createPreflightJob(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) (ctrl.Result, error) {
	before, err := r.readSnapshot(ctx, s.instance, st)
	if err != nil {
		return ctrl.Result{}, err
	}
	names := installedNames(before)
	if len(names) > maxPreflightModules {
		return ctrl.Result{}, r.failUpgrade(ctx, s, st, fmt.Sprintf(
			"preflight refused: the database lists %d installed modules, more than the %d a preflight checks; nothing was touched", len(names), maxPreflightModules))
	}
	desired := resources.PreflightJob(resources.PreflightInputs{Instance: s.instance, Upgrade: st, Installed: names})
	return ctrl.Result{}, r.createJob(ctx, "preflight Job", desired)
}

// installedNames are the modules whose data is in the database, with a
// name a module can have (others cannot be in any image, and are reported
// missing by the comparison).
func installedNames(mods []dbtools.Module) []string {
	var out []string
	for _, m := range mods {
		switch m.State {
		case modules.StateInstalled, modules.StateToUpgrade, modules.StateToRemove:
			if modules.ValidName(m.Name) {
				out = append(out, m.Name)
			}
		}
	}
	return out
}

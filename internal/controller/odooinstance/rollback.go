package odooinstance

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// Automatic rollback: during the stabilization period after web was given a
// new image (a successful upgrade or a direct change), the previous images
// come back when the new one misbehaves. Only the images are rolled back,
// never the database. The rollback holds until spec.image changes.

// crashLoopRestarts is the restart count from which a pod of the new image
// counts as crash-looping even between two CrashLoopBackOff waits.
const crashLoopRestarts = 3

// rollbackInputs is what decideRollback decides on.
type rollbackInputs struct {
	enabled bool
	// inFlight is true while an upgrade runs: it owns the images.
	inFlight bool
	// rolledBack is the rollback in force, nil when none.
	rolledBack *odoov1alpha2.RollbackStatus
	// specImage and runningImage are spec.image and the web template's image.
	specImage, runningImage string
	// beforeImage and beforeCronImage are the images that ran before the rollout.
	beforeImage, beforeCronImage string
	rolloutTime                  *metav1.Time
	now                          time.Time
	stabilization                time.Duration
	threshold                    int32
	errorsLastMinute             int
	progressDeadlineExceeded     bool
	// crashLooping and notReady name a pod of the new image in that state.
	crashLooping, notReady string
}

// decideRollback returns the rollback to make now, nil for none. It is pure.
func decideRollback(in rollbackInputs) *odoov1alpha2.RollbackStatus {
	switch {
	case !in.enabled, in.inFlight, in.rolledBack != nil, in.rolloutTime == nil,
		in.runningImage != in.specImage, in.beforeImage == "", in.beforeImage == in.runningImage,
		in.now.Sub(in.rolloutTime.Time) > in.stabilization:
		return nil
	}
	rb := &odoov1alpha2.RollbackStatus{FromImage: in.runningImage, ToImage: in.beforeImage, ToCronImage: in.beforeCronImage}
	switch {
	case in.progressDeadlineExceeded:
		rb.Reason, rb.Message = odoov1alpha2.ReasonProgressDeadlineExceeded, "the web Deployment exceeded its progress deadline"
	case in.crashLooping != "":
		rb.Reason, rb.Message = odoov1alpha2.ReasonCrashLooping, "pod "+in.crashLooping+" crash-loops"
	case in.errorsLastMinute > int(in.threshold):
		rb.Reason = odoov1alpha2.ReasonErrorRate
		rb.Message = fmt.Sprintf("%d Odoo errors in the last minute, above spec.rollback.errorThreshold %d", in.errorsLastMinute, in.threshold)
	case in.notReady != "":
		rb.Reason, rb.Message = odoov1alpha2.ReasonNotReady, "pod "+in.notReady+" stays unready"
	default:
		return nil
	}
	rb.Message = fmt.Sprintf("rolled back %s to %s: %s; the database is not rolled back; change spec.image to try again", rb.FromImage, rb.ToImage, rb.Message)
	return rb
}

// reconcileRollback rolls a misbehaving new image back, and keeps a rollback
// in force until spec.image changes.
func (r *Reconciler) reconcileRollback(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	dep := inst.Status.Deployment
	if rb := dep.Rollback; rb != nil {
		if inst.Spec.Image != rb.FromImage {
			s.clearRollback = true
			return ctrl.Result{}, nil
		}
		s.serving.WebImage, s.serving.CronImage = rb.ToImage, rb.ToCronImage
		return ctrl.Result{}, nil
	}
	web, _, err := r.currentDeployments(ctx, s)
	if err != nil || web.UID == "" {
		return ctrl.Result{}, err
	}
	in := rollbackInputs{
		enabled: inst.RollbackEnabled(), inFlight: upgrade.InFlight(inst.Status.Upgrade),
		specImage: inst.Spec.Image, runningImage: containerImage(web),
		rolloutTime: dep.RolloutTime, now: time.Now(), stabilization: inst.StabilizationPeriod(),
		threshold: inst.RollbackErrorThreshold(),
	}
	in.beforeImage, in.beforeCronImage = imagesBeforeRollout(dep, in.runningImage)
	if s.health != nil {
		in.errorsLastMinute = s.health.LastMinute
	}
	in.progressDeadlineExceeded = progressDeadlineExceeded(web) != nil
	if decideRollback(in) == nil && in.rolloutTime != nil && in.enabled && !in.inFlight && in.runningImage == in.specImage {
		// Pods are read only inside a stabilization period.
		var err error
		if in.crashLooping, in.notReady, err = r.misbehavingPods(ctx, inst, in.runningImage, in.rolloutTime.Time, in.now); err != nil {
			return ctrl.Result{}, err
		}
	}
	rb := decideRollback(in)
	if rb == nil {
		if in.rolloutTime != nil && in.now.Sub(in.rolloutTime.Time) < in.stabilization && in.enabled {
			return ctrl.Result{RequeueAfter: 15 * time.Second}, nil
		}
		return ctrl.Result{}, nil
	}
	now := metav1.NewTime(in.now)
	rb.Time = &now
	s.rollback = rb
	s.serving.WebImage, s.serving.CronImage = rb.ToImage, rb.ToCronImage
	return ctrl.Result{}, nil
}

// imagesBeforeRollout are the images that ran before the web template got
// running: the current ones when the rollout never completed, else the
// previous ones.
func imagesBeforeRollout(dep odoov1alpha2.DeploymentStatus, running string) (web, cron string) {
	if dep.CurrentImage != "" && dep.CurrentImage != running {
		return dep.CurrentImage, dep.CronImage
	}
	cron = dep.PreviousCronImage
	if cron == "" {
		cron = dep.PreviousImage
	}
	return dep.PreviousImage, cron
}

// progressDeadlineExceeded returns the Deployment's Progressing condition
// when it says the rollout stopped making progress, nil otherwise.
func progressDeadlineExceeded(d *appsv1.Deployment) *appsv1.DeploymentCondition {
	for i, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// notReadyGrace is how long a pod of the new image may stay unready before it
// counts for a rollback.
const notReadyGrace = 3 * time.Minute

// misbehavingPods names a web pod of image that crash-loops, and one that
// stays unready past notReadyGrace.
func (r *Reconciler) misbehavingPods(ctx context.Context, inst *odoov1alpha2.OdooInstance, image string, since, now time.Time) (crashLooping, notReady string, err error) {
	pods := &corev1.PodList{}
	sel := labels.SelectorFromSet(resources.SelectorLabels(inst, resources.ComponentWeb))
	if err := r.APIReader.List(ctx, pods, client.InNamespace(inst.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return "", "", err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != image {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if (cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff") || cs.RestartCount >= crashLoopRestarts {
				crashLooping = p.Name
			}
		}
		start := p.CreationTimestamp.Time
		if start.Before(since) {
			start = since
		}
		if !podReady(&p) && now.Sub(start) > notReadyGrace {
			notReady = p.Name
		}
	}
	return crashLooping, notReady, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

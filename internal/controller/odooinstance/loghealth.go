package odooinstance

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
)

// maxErrorsPerEvent bounds the errors one Warning event names: a burst of
// distinct errors must not flood the event stream (status.health has them).
const maxErrorsPerEvent = 3

// maxNote keeps an event's note under the events API's 1 KiB.
const maxNote = 1000

// errorsNote names at most maxErrorsPerEvent errors, and how many more.
func errorsNote(entries []logwatch.ErrorEntry) string {
	var parts []string
	for i, e := range entries {
		if i == maxErrorsPerEvent {
			parts = append(parts, fmt.Sprintf("and %d more; see status.health", len(entries)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("[%s] %s", e.Category, e.Message))
	}
	note := strings.Join(parts, "; ")
	if len(note) > maxNote {
		note = strings.ToValidUTF8(note[:maxNote-3], "") + "..."
	}
	return note
}

// reconcileHealth registers the instance with the log sampler and takes its
// current picture for status.health.
func (r *Reconciler) reconcileHealth(_ context.Context, s *scope) (ctrl.Result, error) {
	if r.Sampler == nil {
		return ctrl.Result{}, nil
	}
	inst := s.instance
	key := client.ObjectKeyFromObject(inst)
	if !inst.LogMonitoringEnabled() {
		r.Sampler.Forget(key)
		return ctrl.Result{}, nil
	}
	r.Sampler.Watch(key)
	h, ok := r.Sampler.Health(key)
	if !ok {
		return ctrl.Result{}, nil
	}
	s.health = &h
	fresh, critical := r.Sampler.TakeNew(key)
	// One event per kind and reconcile: the events API folds events of one
	// reason into a series that keeps only the first note.
	if len(critical) > 0 {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventOdooCritical, "LogSample",
			"CRITICAL %s", errorsNote(critical))
	}
	var errs []logwatch.ErrorEntry
	for _, e := range fresh {
		if e.Level != logwatch.LevelCritical { // already reported above
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventOdooError, "LogSample",
			"new error %s", errorsNote(errs))
	}
	return ctrl.Result{}, nil
}

// setHealth writes status.health and the Healthy condition from the sampler's
// picture; both are removed when log monitoring is off.
func setHealth(status *odoov1alpha2.OdooInstanceStatus, h *logwatch.Health, enabled bool, gen int64) {
	if !enabled {
		status.Health = nil
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionHealthy)
		return
	}
	if h == nil {
		// Not sampled by this process yet: keep what the status says.
		if meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionHealthy) == nil {
			meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: odoov1alpha2.ConditionHealthy, Status: metav1.ConditionUnknown,
				Reason: odoov1alpha2.ReasonNotSampled, Message: "the logs were not sampled yet", ObservedGeneration: gen})
		}
		return
	}
	health := &odoov1alpha2.HealthStatus{Status: "Healthy", ErrorCount: int32(min(h.Errors, 1<<30))} //nolint:gosec // bounded above
	if !h.LastError.IsZero() {
		t := metav1.NewTime(h.LastError)
		health.LastErrorTime = &t
	}
	for _, e := range h.Distinct {
		t := metav1.NewTime(e.Time)
		health.Errors = append(health.Errors, odoov1alpha2.HealthError{
			Timestamp: &t, Level: string(e.Level), Message: e.Message, Category: string(e.Category), Count: int32(min(e.Count, 1<<30)), //nolint:gosec // bounded above
		})
	}
	cond := metav1.Condition{Type: odoov1alpha2.ConditionHealthy, Status: metav1.ConditionTrue, Reason: odoov1alpha2.ReasonNoErrors,
		Message: "no Odoo error in the sampled logs", ObservedGeneration: gen}
	switch {
	case !h.Sampled:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionUnknown, odoov1alpha2.ReasonNotSampled, "the logs were not sampled yet"
	case h.Errors > 0:
		health.Status = "Degraded"
		cond.Status, cond.Reason = metav1.ConditionFalse, odoov1alpha2.ReasonErrorsLogged
		cond.Message = "[" + string(h.Distinct[0].Category) + "] " + h.Distinct[0].Message
	}
	status.Health = health
	meta.SetStatusCondition(&status.Conditions, cond)
}

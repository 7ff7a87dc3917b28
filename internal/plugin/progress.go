package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// pollInterval is how often --wait reads the object.
const pollInterval = time.Second

// observation is one reading of an operation: a line for people, and
// whether it ended (and how).
type observation struct {
	line   string
	done   bool
	failed bool
}

// follow prints a line each time the observation changes, prefixed with
// the elapsed time, until it is done or the timeout passes. It returns an
// error (exit code 1) when the operation failed or did not end in time.
func follow(ctx context.Context, out io.Writer, timeout time.Duration, what string, observe func(context.Context) (observation, error)) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		obs, err := observe(ctx)
		if err != nil && ctx.Err() == nil {
			// A read failure is shown and retried: the API server may be
			// briefly unreachable during a long operation.
			obs = observation{line: "(reading " + what + ": " + err.Error() + ")"}
		}
		if obs.line != last && obs.line != "" {
			_, _ = fmt.Fprintf(out, "%6s  %s\n", humanDuration(time.Since(start)), obs.line)
			last = obs.line
		}
		if obs.done {
			if obs.failed {
				return &exitError{code: 1, msg: what + " failed"}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return failf("%s did not finish within %s (it goes on; kubectl odoo status shows it)", what, timeout)
		case <-time.After(pollInterval):
		}
	}
}

// jobPod is the newest pod of the Kubernetes Job jobName, nil when none.
func (s *session) jobPod(ctx context.Context, jobName string) *corev1.Pod {
	if jobName == "" {
		return nil
	}
	pods := &corev1.PodList{}
	if err := s.c.List(ctx, pods, client.InNamespace(s.namespace), client.MatchingLabels{"job-name": jobName}); err != nil || len(pods.Items) == 0 {
		return nil
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[j].CreationTimestamp.Before(&pods.Items[i].CreationTimestamp)
	})
	return &pods.Items[0]
}

// podState is a pod's phase with the reason of a waiting or failed
// container, as `kubectl get pods` shows it.
func podState(p *corev1.Pod) string {
	if p == nil {
		return ""
	}
	state := string(p.Status.Phase)
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return state + " (" + cs.Name + ": " + w.Reason + ")"
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf("%s (%s: exit %d %s)", state, cs.Name, t.ExitCode, t.Reason)
		}
	}
	return state
}

// jobLine is the line of an Odoo job kind: phase, step, the Job and its pod,
// and the message: why it waits (for the instance's lock, a Secret, a pod
// that does not start), what the step does, how it ended.
func jobLine(st odoov1alpha2.OdooJobStatus, step string, pod *corev1.Pod, extra string) string {
	phase := string(st.Phase)
	if phase == "" {
		phase = "Pending"
	}
	parts := []string{fmt.Sprintf("%-9s", phase)}
	if step != "" {
		parts = append(parts, "step "+step)
	}
	if !st.Phase.Finished() && st.JobName != "" {
		job := "Job " + st.JobName
		if ps := podState(pod); ps != "" {
			job += ", pod " + pod.Name + " " + ps
		}
		parts = append(parts, job)
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if st.Message != "" {
		parts = append(parts, oneLine(st.Message))
	}
	return strings.TrimSpace(strings.Join(parts, "  "))
}

// backupObservation is one reading of a backup.
func backupObservation(b *odoov1alpha2.OdooBackupJob, pod *corev1.Pod) observation {
	extra := ""
	if b.Status.Phase == odoov1alpha2.JobCompleted {
		extra = humanSize(b.Status.BackupSize)
	}
	return observation{
		line: jobLine(b.Status.OdooJobStatus, "", pod, extra),
		done: b.Status.Phase.Finished(), failed: b.Status.Phase == odoov1alpha2.JobFailed,
	}
}

// restoreObservation is one reading of a restore.
func restoreObservation(r *odoov1alpha2.OdooRestoreJob, pod *corev1.Pod) observation {
	step := string(r.Status.Step)
	if r.Status.Phase.Finished() {
		step = ""
	}
	if r.Status.Step != odoov1alpha2.RestoreStepLoad && r.Status.Step != "" {
		// status.jobName is the loading Job: after its step its pod is
		// only history.
		st := r.Status.OdooJobStatus
		st.JobName = ""
		return observation{
			line: jobLine(st, step, nil, ""),
			done: st.Phase.Finished(), failed: st.Phase == odoov1alpha2.JobFailed,
		}
	}
	return observation{
		line: jobLine(r.Status.OdooJobStatus, step, pod, ""),
		done: r.Status.Phase.Finished(), failed: r.Status.Phase == odoov1alpha2.JobFailed,
	}
}

// humanSize prints a size in bytes (as status.backupSize holds it) in
// binary units; anything else is shown as it is.
func humanSize(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return s
	}
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

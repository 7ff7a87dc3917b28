package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerState is what the player knows of an Odoo pod's first
// container; podStatus turns it into the status a kubelet would report.
type containerState struct {
	restartCount int32
	// Exactly one of waiting, running (the start time) and terminated.
	waiting    *corev1.ContainerStateWaiting
	running    *metav1.Time
	terminated *corev1.ContainerStateTerminated
	// last is the previous run's end (lastState), after a restart.
	last  *corev1.ContainerStateTerminated
	ready bool
}

// podStatus is pod's status with the first container in state st: phase,
// the Initialized/Ready/ContainersReady conditions (other conditions, e.g.
// the scheduler's PodScheduled, kept), and container statuses. Further
// containers are shown running and ready, as KWOK shows them.
func podStatus(pod *corev1.Pod, st containerState, now metav1.Time) corev1.PodStatus {
	out := *pod.Status.DeepCopy()
	if out.StartTime == nil {
		out.StartTime = &now
	}
	out.HostIP, out.PodIP = "127.0.0.1", "127.0.0.1"
	out.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	out.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	switch {
	case st.terminated != nil && pod.Spec.RestartPolicy != corev1.RestartPolicyAlways:
		out.Phase = corev1.PodSucceeded
		if st.terminated.ExitCode != 0 {
			out.Phase = corev1.PodFailed
		}
	case st.waiting != nil && st.restartCount == 0 && st.last == nil:
		out.Phase = corev1.PodPending
	default:
		out.Phase = corev1.PodRunning
	}
	cs := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "sandbox://" + c.Image}
		if i > 0 {
			s.Ready, s.Started = true, ptr(true)
			s.State.Running = &corev1.ContainerStateRunning{StartedAt: *out.StartTime}
			cs = append(cs, s)
			continue
		}
		s.RestartCount, s.Ready, s.Started = st.restartCount, st.ready, ptr(st.running != nil)
		s.State = corev1.ContainerState{Waiting: st.waiting, Terminated: st.terminated}
		if st.running != nil {
			s.State.Running = &corev1.ContainerStateRunning{StartedAt: *st.running}
		}
		if st.last != nil {
			s.LastTerminationState.Terminated = st.last
		}
		if st.running != nil || st.terminated != nil {
			s.ContainerID = "sandbox://" + string(pod.UID)
		}
		cs = append(cs, s)
	}
	out.ContainerStatuses = cs
	ready := st.ready && st.terminated == nil
	reason := ""
	if !ready {
		reason = "ContainersNotReady"
		if out.Phase == corev1.PodSucceeded || out.Phase == corev1.PodFailed {
			reason = "PodCompleted"
		}
	}
	setCondition(&out, corev1.PodInitialized, true, "", now)
	setCondition(&out, corev1.ContainersReady, ready, reason, now)
	setCondition(&out, corev1.PodReady, ready, reason, now)
	return out
}

// setCondition sets one condition, its transition time moving only when
// its status does.
func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, ok bool, reason string, now metav1.Time) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason = status, reason
		return
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: now})
}

func ptr[T any](v T) *T { return &v }

// backoff is a kubelet's crash-loop delay before restart n (1-based): 10 s,
// doubled each time, at most 5 minutes.
func backoff(n int32) time.Duration {
	d := 10 * time.Second
	for i := int32(1); i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

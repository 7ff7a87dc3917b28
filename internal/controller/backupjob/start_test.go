package backupjob

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodStartProblem(t *testing.T) {
	pod := func(phase corev1.PodPhase, mutate ...func(*corev1.Pod)) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "shop-backup-x"}, Status: corev1.PodStatus{Phase: phase}}
		for _, m := range mutate {
			m(&p)
		}
		return p
	}
	waiting := func(reason, msg string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "data",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}})
		}
	}
	unschedulable := func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: `0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims.`})
	}
	tests := []struct {
		name        string
		pods        []corev1.Pod
		wantStarted bool
		wantWhy     []string
	}{
		{name: "no pod", wantWhy: []string{"no pod was created"}},
		{name: "running", pods: []corev1.Pod{pod(corev1.PodRunning)}, wantStarted: true},
		{name: "ended", pods: []corev1.Pod{pod(corev1.PodFailed)}, wantStarted: true},
		{name: "a retry runs after a pod that never started", pods: []corev1.Pod{pod(corev1.PodPending, unschedulable), pod(corev1.PodRunning)}, wantStarted: true},
		{name: "missing Secret", pods: []corev1.Pod{pod(corev1.PodPending, waiting("CreateContainerConfigError", `secret "s3" not found`))},
			wantWhy: []string{"CreateContainerConfigError", `secret "s3" not found`, "container data"}},
		{name: "image pull", pods: []corev1.Pod{pod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image"))},
			wantWhy: []string{"ImagePullBackOff"}},
		{name: "unschedulable", pods: []corev1.Pod{pod(corev1.PodPending, unschedulable)},
			wantWhy: []string{"cannot be scheduled", "Unschedulable", "unbound immediate PersistentVolumeClaims"}},
		{name: "creating", pods: []corev1.Pod{pod(corev1.PodPending, waiting("ContainerCreating", ""))}, wantWhy: []string{"still Pending"}},
		{name: "a container started in a Pending pod", pods: []corev1.Pod{pod(corev1.PodPending, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "copy", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		})}, wantStarted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started, why := PodStartProblem(tt.pods)
			if started != tt.wantStarted {
				t.Fatalf("started = %v, want %v (%s)", started, tt.wantStarted, why)
			}
			if started && why != "" {
				t.Errorf("a started pod has a problem: %s", why)
			}
			for _, w := range tt.wantWhy {
				if !strings.Contains(why, w) {
					t.Errorf("why %q lacks %q", why, w)
				}
			}
		})
	}
}

package odooinstance

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

func TestPullFailure(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pod := func(age time.Duration, reason, msg string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-age))}}
		st := corev1.ContainerStatus{Name: "odoo"}
		if reason != "" {
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{st}
		return p
	}
	const pullMsg = `failed to pull image "odoo:18.0-nope": manifest unknown`
	tests := []struct {
		name string
		pods []corev1.Pod
		want string
	}{
		{name: "no pod yet", want: ""},
		{name: "running", pods: []corev1.Pod{pod(5*time.Minute, "", "")}, want: ""},
		{name: "creating", pods: []corev1.Pod{pod(5*time.Minute, "ContainerCreating", "")}, want: ""},
		{name: "pull failing, within the bound: a registry hiccup may pass", pods: []corev1.Pod{pod(30*time.Second, "ErrImagePull", pullMsg)}, want: ""},
		{name: "pull failing past the bound", pods: []corev1.Pod{pod(3*time.Minute, "ImagePullBackOff", pullMsg)}, want: "ImagePullBackOff: " + pullMsg},
		{name: "invalid name: no retry can help", pods: []corev1.Pod{pod(time.Second, "InvalidImageName", "bad ref")}, want: "InvalidImageName: bad ref"},
	}
	for _, tt := range tests {
		if got := pullFailure(tt.pods, now, 2*time.Minute); got != tt.want {
			t.Errorf("%s: pullFailure = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestInstalledNames(t *testing.T) {
	got := installedNames([]dbtools.Module{
		{Name: "base", State: "installed"}, {Name: "sale", State: "uninstalled"}, {Name: "crm", State: "to upgrade"},
		{Name: "old", State: "to remove"}, {Name: "hr", State: "to install"}, {Name: "x; rm -rf /", State: "installed"},
	})
	if want := []string{"base", "crm", "old"}; !slices.Equal(got, want) {
		t.Errorf("installedNames = %q, want %q", got, want)
	}
}

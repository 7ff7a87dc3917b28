package resources

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func initInputs(mutate ...func(*InitInputs)) InitInputs {
	in := InitInputs{Instance: newInstance(), Image: testImage, Database: "prod_shop", ConfHash: "abc"}
	for _, m := range mutate {
		m(&in)
	}
	return in
}

func TestInitJobName(t *testing.T) {
	base := InitJobName(initInputs())
	tests := []struct {
		name   string
		mutate func(*InitInputs)
		same   bool
	}{
		{"same inputs give the same name", func(*InitInputs) {}, true},
		{"the configuration hash does not rename the Job", func(in *InitInputs) { in.ConfHash = "other" }, true},
		{"explicit base is the default", func(in *InitInputs) { in.Modules = []string{"base"} }, true},
		{"another image is another Job", func(in *InitInputs) { in.Image = "odoo:19.0" }, false},
		{"another database is another Job", func(in *InitInputs) { in.Database = "other" }, false},
		{"other modules are another Job", func(in *InitInputs) { in.Modules = []string{"base", "sale"} }, false},
		{"demo data is another Job", func(in *InitInputs) { in.Demo = true }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := InitJobName(initInputs(tt.mutate))
			g.Expect(got).To(MatchRegexp(`^shop-init-[0-9a-f]{8}$`))
			if tt.same {
				g.Expect(got).To(Equal(base))
			} else {
				g.Expect(got).NotTo(Equal(base))
			}
		})
	}

	t.Run("long instance names fit 63 characters", func(t *testing.T) {
		g := NewWithT(t)
		long := initInputs(func(in *InitInputs) { in.Instance.Name = strings.Repeat("a", 60) + "-b" })
		g.Expect(len(InitJobName(long))).To(BeNumerically("<=", 63))
		g.Expect(InitJobName(long)).To(MatchRegexp(`^a+-init-[0-9a-f]{8}$`))
	})
}

func TestInitJob(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*InitInputs)
		wantArgs []string
	}{
		{"base without demo", func(*InitInputs) {},
			[]string{"-i", "base", "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", "prod_shop", "--without-demo=all"}},
		{"modules from spec.init", func(in *InitInputs) { in.Modules = []string{"base", "sale", "stock"} },
			[]string{"-i", "base,sale,stock", "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", "prod_shop", "--without-demo=all"}},
		{"demo requested", func(in *InitInputs) { in.Demo = true },
			[]string{"-i", "base", "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", "prod_shop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			in := initInputs(tt.mutate)
			job := convert[batchv1.Job](t, InitJob(in))
			g.Expect(job.Name).To(Equal(InitJobName(in)))
			g.Expect(job.Labels).To(HaveKeyWithValue(JobKindLabel, JobKindInit))
			g.Expect(*job.Spec.BackoffLimit).To(BeZero())
			pod := job.Spec.Template.Spec
			g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
			c := pod.Containers[0]
			g.Expect(c.Image).To(Equal(testImage))
			g.Expect(c.Command).To(Equal([]string{"odoo", "-c", "/etc/odoo/odoo.conf"}))
			g.Expect(c.Args).To(Equal(tt.wantArgs))
			// Credentials only through the conf Secret: no literal secret in env.
			for _, e := range c.Env {
				g.Expect(strings.ToLower(e.Name)).NotTo(ContainSubstring("password"))
			}
			g.Expect(pod.Volumes[0].Secret.SecretName).To(Equal("shop-odoo-conf"))
			g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
			expectOwnedBy(g, job.OwnerReferences, in.Instance)
		})
	}
}

func TestInitJobOutcome(t *testing.T) {
	failedPod := corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name:  "odoo",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 255, Reason: "Error"}},
	}}}}
	tests := []struct {
		name        string
		conditions  []batchv1.JobCondition
		pods        []corev1.Pod
		want        JobOutcome
		wantMessage []string
	}{
		{name: "running", want: JobOutcome{}},
		{name: "complete", conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}},
			want: JobOutcome{Done: true}},
		{name: "a False condition is ignored", conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse}},
			want: JobOutcome{}},
		{name: "failed with the pod's exit code", pods: []corev1.Pod{failedPod},
			conditions:  []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}},
			want:        JobOutcome{Done: true, Failed: true},
			wantMessage: []string{"Job shop-init-1 failed: BackoffLimitExceeded", "backoff limit", "container odoo exited with code 255 (Error)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "shop-init-1"}, Status: batchv1.JobStatus{Conditions: tt.conditions}}
			got := InitJobOutcome(job, tt.pods)
			g.Expect(got.Done).To(Equal(tt.want.Done))
			g.Expect(got.Failed).To(Equal(tt.want.Failed))
			for _, m := range tt.wantMessage {
				g.Expect(got.Message).To(ContainSubstring(m))
			}
		})
	}
}

package datajob

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOutcomeOf(t *testing.T) {
	job := func(conds ...batchv1.JobCondition) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{UID: "u"}, Status: batchv1.JobStatus{Conditions: conds}}
	}
	cond := func(typ batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobCondition {
		return batchv1.JobCondition{Type: typ, Status: s}
	}
	for _, tc := range []struct {
		name string
		job  *batchv1.Job
		want Outcome
	}{
		{"nil", nil, Absent},
		{"not found (empty object)", &batchv1.Job{}, Absent},
		{"no condition", job(), Running},
		{"suspended is not finished", job(cond(batchv1.JobSuspended, corev1.ConditionTrue)), Running},
		{"failure target is not finished yet", job(cond(batchv1.JobFailureTarget, corev1.ConditionTrue)), Running},
		{"complete", job(cond(batchv1.JobComplete, corev1.ConditionTrue)), Succeeded},
		{"complete but false", job(cond(batchv1.JobComplete, corev1.ConditionFalse)), Running},
		{"failed", job(cond(batchv1.JobFailed, corev1.ConditionTrue)), Failed},
		{"success criteria then complete", job(cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue), cond(batchv1.JobComplete, corev1.ConditionTrue)), Succeeded},
	} {
		if got := OutcomeOf(tc.job); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

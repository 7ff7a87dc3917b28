package datajob

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"
)

// A data Job stopped by its deadline says so, with the deadline and the
// flag that sets it, instead of a bare reason.
func TestFailureMessageDeadlineExceeded(t *testing.T) {
	job := &batchv1.Job{Spec: batchv1.JobSpec{ActiveDeadlineSeconds: ptr.To(int64(21600))}}
	job.Name = "shop-restore"
	c := batchv1.JobCondition{Type: batchv1.JobFailed, Reason: batchv1.JobReasonDeadlineExceeded, Message: "Job was active longer than specified deadline"}
	msg := FailureMessage("restore", job, c, nil, 0, false)
	for _, want := range []string{"restore Job shop-restore", "deadline of 6h0m0s", "--data-job-deadline", "DeadlineExceeded"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	other := FailureMessage("backup", job, batchv1.JobCondition{Type: batchv1.JobFailed, Reason: "BackoffLimitExceeded"}, &Result{Error: "boom"}, 1, true)
	if other != "the backup Job shop-restore failed (BackoffLimitExceeded, exit code 1): boom" {
		t.Errorf("other failures changed: %q", other)
	}
}

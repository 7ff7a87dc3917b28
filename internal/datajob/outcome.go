package datajob

import (
	batchv1 "k8s.io/api/batch/v1"

	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Outcome is where a Job of an operation stands, the same for every
// controller.
type Outcome int

const (
	// Absent means the Job does not exist (not created yet, or deleted).
	Absent Outcome = iota
	// Running means the Job exists and has not finished.
	Running
	// Succeeded means the Job's Complete condition is true.
	Succeeded
	// Failed means the Job's Failed condition is true.
	Failed
)

// String names the outcome, for messages and test output.
func (o Outcome) String() string {
	switch o {
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	}
	return "absent"
}

// OutcomeOf is the outcome of job. A nil job, or one never read from the
// API server (no UID: what a Get that found nothing leaves), is Absent.
func OutcomeOf(job *batchv1.Job) Outcome {
	if job == nil || job.UID == "" {
		return Absent
	}
	switch c := resources.FinishedCondition(job); {
	case c == nil:
		return Running
	case c.Type == batchv1.JobComplete:
		return Succeeded
	}
	return Failed
}

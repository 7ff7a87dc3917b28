package operation

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// A long operation (an upgrade, a filestore migration, a restore) is a pure
// Decide(state, facts) → action and an edge that carries the action out.
// The runner's one rule: the status naming the next step is saved through
// PatchStatus first, then the step acts. Every object a step creates has a
// deterministic name recorded in that status, so an operator that stops
// between the save and the act, or in the middle of the act, finds the
// step on restart and does it again without a second Job.

// JobState is where a Job of an operation stands: the one enum every
// operation decides on.
type JobState int

// Job states.
const (
	// JobAbsent: the Job does not exist (read from the API server, so it
	// was never created, or was removed).
	JobAbsent JobState = iota
	JobRunning
	JobSucceeded
	JobFailed
)

// String names the state for logs and test failures.
func (s JobState) String() string {
	switch s {
	case JobAbsent:
		return "absent"
	case JobRunning:
		return "running"
	case JobSucceeded:
		return "succeeded"
	case JobFailed:
		return "failed"
	}
	return "unknown"
}

// JobStateOf reads a Job's Complete or Failed condition; nil is JobAbsent.
func JobStateOf(job *batchv1.Job) JobState {
	if job == nil || job.UID == "" {
		return JobAbsent
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return JobSucceeded
		case batchv1.JobFailed:
			return JobFailed
		}
	}
	return JobRunning
}

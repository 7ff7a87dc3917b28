package datajob

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Result is what a data subcommand reports, as one JSON line (at most
// TerminationLogLimit bytes) in its container's termination log.
type Result struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	// Error is the one-line error of a failed command.
	Error    string `json:"error,omitempty"`
	Database string `json:"database,omitempty"`
	File     string `json:"file,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	// Existing: backup found a complete backup of that name and kept it
	// (with --run-id, only one that this run wrote).
	Existing bool `json:"existing,omitempty"`
	// RunID is the --run-id of the backup that wrote the reported object.
	RunID string `json:"runId,omitempty"`
	// Modules counts the modules read (uninstallable ones left out).
	Modules int `json:"modules,omitempty"`
	// Pending lists the modules marked 'to upgrade', 'to install' or 'to
	// remove', as "name (state)".
	Pending []string `json:"pending,omitempty"`
	// Format of a backup: zip or dump.
	Format string `json:"format,omitempty"`
	// FilestoreFiles counts the filestore files backed up or restored.
	FilestoreFiles int `json:"filestoreFiles,omitempty"`
	// Removed lists the keys delete-backup deleted (those already absent
	// are left out).
	Removed []string `json:"removed,omitempty"`
	// Filestore is what swap-filestore did: FilestoreMoved or FilestoreAbsent.
	Filestore string  `json:"filestore,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// TerminationLogLimit is the size Kubernetes keeps of a container's
// termination message.
const TerminationLogLimit = 4096

// Values of Result.Filestore reported by swap-filestore.
const (
	// FilestoreMoved: the restored filestore is in the live directory.
	FilestoreMoved = "moved"
	// FilestoreAbsent: there was no restored filestore; the live one stayed.
	FilestoreAbsent = "absent"
)

// ContainerName is the data Jobs' container whose termination message holds
// the Result.
const ContainerName = "data"

// Read reads a data Job's result and exit code from its last pod (pods are
// read with reader, which should be uncached); nil when there is none.
func Read(ctx context.Context, reader client.Reader, job *batchv1.Job) (*Result, int32, bool) {
	pods := &corev1.PodList{}
	if err := reader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{"batch.kubernetes.io/job-name": job.Name}); err != nil {
		return nil, 0, false
	}
	return FromPods(pods.Items)
}

// FromPods reads the data container's result from the newest pod.
func FromPods(pods []corev1.Pod) (*Result, int32, bool) {
	var newest *corev1.Pod
	for i := range pods {
		if newest == nil || newest.CreationTimestamp.Before(&pods[i].CreationTimestamp) {
			newest = &pods[i]
		}
	}
	if newest == nil {
		return nil, 0, false
	}
	for _, cs := range newest.Status.ContainerStatuses {
		if cs.Name != ContainerName || cs.State.Terminated == nil {
			continue
		}
		t := cs.State.Terminated
		res := &Result{}
		if err := json.Unmarshal([]byte(strings.TrimSpace(t.Message)), res); err != nil {
			return nil, t.ExitCode, true
		}
		return res, t.ExitCode, true
	}
	return nil, 0, false
}

// FailureMessage explains a failed data Job: the Job's reason, the
// container's exit code when known, and the data command's own error (else
// the Job condition's message).
func FailureMessage(what string, job *batchv1.Job, c batchv1.JobCondition, res *Result, exit int32, found bool) string {
	if c.Reason == batchv1.JobReasonDeadlineExceeded {
		// Kubernetes stopped it: the data command never wrote a result.
		limit := "its deadline"
		if d := job.Spec.ActiveDeadlineSeconds; d != nil {
			limit = "its deadline of " + (time.Duration(*d) * time.Second).String()
		}
		return fmt.Sprintf("the %s Job %s ran longer than %s (activeDeadlineSeconds, operator flag --data-job-deadline) and was stopped (DeadlineExceeded)",
			what, job.Name, limit)
	}
	msg := fmt.Sprintf("the %s Job %s failed (%s", what, job.Name, c.Reason)
	if found {
		msg += fmt.Sprintf(", exit code %d", exit)
	}
	msg += ")"
	if res != nil && res.Error != "" {
		msg += ": " + res.Error
	} else if c.Message != "" {
		msg += ": " + c.Message
	}
	return msg
}

// WrittenBy says why res does not prove that the backup run uid wrote the
// object it reports ("" when it does): the data command reports the run id
// that it recorded beside the object. A result without a run id counts only
// when the command wrote the object itself (a Job of an operator version
// that passed no --run-id).
func WrittenBy(res *Result, uid string) string {
	switch {
	case res == nil:
		return "its result (the data container's termination message) cannot be read"
	case !res.OK || len(res.SHA256) != 64:
		return "its result reports no stored backup"
	case res.RunID == uid:
		return ""
	case res.RunID == "" && !res.Existing:
		return ""
	case res.RunID == "":
		return "it found a backup already stored there that records no run id"
	}
	return fmt.Sprintf("it reports the backup of run %s, not of this OdooBackupJob (%s)", res.RunID, uid)
}

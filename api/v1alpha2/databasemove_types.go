package v1alpha2

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// DatabaseMovePhase is where a move of the database between PostgreSQL
// clusters stands.
// +kubebuilder:validation:Enum=Moving;Succeeded;Failed
type DatabaseMovePhase string

// Database move phases.
const (
	DatabaseMoveMoving    DatabaseMovePhase = "Moving"
	DatabaseMoveSucceeded DatabaseMovePhase = "Succeeded"
	DatabaseMoveFailed    DatabaseMovePhase = "Failed"
)

// DatabaseMoveStep is the step of a move in progress; it is recorded before
// the step acts, so an operator restart resumes it.
// +kubebuilder:validation:Enum=Stop;Dump;CreateTarget;Load;Check
type DatabaseMoveStep string

// Database move steps, in order.
const (
	// DatabaseMoveStepStop waits for web and cron to stop.
	DatabaseMoveStepStop DatabaseMoveStep = "Stop"
	// DatabaseMoveStepDump runs the dump Job on the source cluster (the
	// move's restore point).
	DatabaseMoveStepDump DatabaseMoveStep = "Dump"
	// DatabaseMoveStepCreateTarget creates the role and the empty database
	// on the target cluster.
	DatabaseMoveStepCreateTarget DatabaseMoveStep = "CreateTarget"
	// DatabaseMoveStepLoad runs the load Job into the target database.
	DatabaseMoveStepLoad DatabaseMoveStep = "Load"
	// DatabaseMoveStepCheck compares the source and target databases.
	DatabaseMoveStepCheck DatabaseMoveStep = "Check"
)

// DatabaseMove records a move of the instance's database to another
// PostgreSQL cluster. The names of everything it creates are recorded before
// they are created.
type DatabaseMove struct {
	// phase of the move.
	// +optional
	Phase DatabaseMovePhase `json:"phase,omitempty"`
	// step is where a move in progress stands; empty once it ended.
	// +optional
	Step DatabaseMoveStep `json:"step,omitempty"`
	// sourceCluster is the cluster the database moves from; its database is
	// kept there after the move.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	SourceCluster string `json:"sourceCluster,omitempty"`
	// targetCluster is the cluster the database moves to.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	TargetCluster string `json:"targetCluster,omitempty"`
	// dumpJob is the Job that dumps the source database to dumpFile.
	// +optional
	DumpJob string `json:"dumpJob,omitempty"`
	// dumpFile is the dump's file on the claim <instance>-restore-points:
	// the move's restore point, kept after the move.
	// +optional
	DumpFile string `json:"dumpFile,omitempty"`
	// loadJob is the Job that loads the dump into the target database.
	// +optional
	LoadJob string `json:"loadJob,omitempty"`
	// startTime is when the move started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the move ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// message explains where the move stands, or why it failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// ConditionDatabaseMoved reports the last move of the database to another
// PostgreSQL cluster: Unknown while it runs, True once the instance runs on
// the target, False when it failed (the instance stays on the source).
const ConditionDatabaseMoved = "DatabaseMoved"

// Reasons of a database move (ReasonDatabaseMoving is in conditions.go).
const (
	// ReasonDatabaseMoved means the instance runs on the target cluster.
	ReasonDatabaseMoved = "DatabaseMoved"
	// ReasonDatabaseMoveFailed means a move failed; the instance runs on
	// the source cluster, its database untouched.
	ReasonDatabaseMoveFailed = "DatabaseMoveFailed"
	// ReasonDatabaseMoveRefused means spec.database.cluster asks for a move
	// the operator does not start (unknown cluster, tenant policy, a
	// database of the same name already on the target); nothing changed.
	ReasonDatabaseMoveRefused = "DatabaseMoveRefused"
)

// Events of a database move.
const (
	// EventDatabaseMoveStarted is emitted when a move starts.
	EventDatabaseMoveStarted = "DatabaseMoveStarted"
	// EventDatabaseMoveSucceeded is emitted when the instance switched to
	// the target cluster.
	EventDatabaseMoveSucceeded = "DatabaseMoveSucceeded"
	// EventDatabaseMoveFailed is emitted when a move failed.
	EventDatabaseMoveFailed = "DatabaseMoveFailed"
	// EventDatabaseMoveRefused is emitted when a move is refused.
	EventDatabaseMoveRefused = "DatabaseMoveRefused"
)

// Package postgres manages the PostgreSQL side of an OdooInstance: the login
// role and the database, on one of several PostgreSQL clusters described by
// the operator's clusters.yaml.
//
// The package has four layers:
//
//   - finding an instance's cluster (FindCluster: the clusters Secret, else
//     the legacy --db-host connection), the one way every controller does;
//   - pure code: the clusters.yaml parser (ParseClusters), SCRAM-SHA-256
//     verifiers (ScramSHA256Verifier, VerifierMatches) and a planner
//     (PlanEnsure, PlanDrop) that turns desired and observed state into a
//     list of small typed Actions;
//   - an executor (Manager) that observes the server, plans, and applies the
//     actions through one small pgx pool per cluster;
//   - an in-memory record of the last successful Ensure per (cluster, role,
//     database), so a steady-state reconcile runs no query and opens no
//     connection until ManagerOptions.RecheckInterval has passed.
//
// Safety rules kept here:
//
//   - no plaintext password ever reaches SQL text or an error message: role
//     passwords are sent as SCRAM-SHA-256 verifiers computed in Go, and error
//     messages are scrubbed of the admin and role passwords;
//   - identifiers are quoted with pgx.Identifier and checked against
//     PostgreSQL's 63-byte limit (never silently truncated);
//   - the Manager never touches a role with elevated attributes (superuser,
//     CREATEROLE, REPLICATION, BYPASSRLS), never takes over a database owned
//     by another ordinary role, never alters or drops the system databases,
//     and Drop only drops a database owned by the instance's role.
package postgres

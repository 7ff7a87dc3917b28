// Package dbtools is the database "data work" of the operator: what its
// Jobs run (through the `odoo-operator data` subcommands) and the few
// database-level operations the operator itself performs around them.
//
//   - Modules: ReadModules snapshots ir_module_module; CompareModules (pure)
//     tells what an upgrade really did: upgraded, installed, removed, and
//     what is still pending ('to upgrade', 'to install', 'to remove').
//   - Restore verifies a custom-format dump (written by the backup code,
//     internal/backup/odoozip, with a sha256sum-style checksum beside it)
//     and its archive before it touches any database, and only loads into an
//     existing, empty database.
//   - TableChecksums fingerprints every table of schema public, to compare a
//     restored database with its source.
//   - SwapDatabases, CreateEmptyDatabase and DatabaseExists run in the
//     operator on an admin connection to the maintenance database; reads
//     inside an instance's database run as the instance's own role
//     (postgres.Manager.WithTenantDatabase), never as the admin.
//
// Connections: the Job side takes its connection from the libpq environment
// (PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE, PGSSLMODE,
// ...). ConnectEnv reads it for the Go side, and pg_dump and pg_restore
// inherit it, so the password is never on a command line, in SQL text or in
// a log line.
package dbtools

package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

// TerminationLogLimit is the size Kubernetes keeps of a container's
// termination message.
const TerminationLogLimit = 4096

// dataOptions are the flags shared by the data subcommands.
type dataOptions struct {
	pgBinDir       string
	terminationLog string
}

// DataResult is what a data subcommand reports, as one JSON line (at most
// TerminationLogLimit bytes) in its container's termination log.
type DataResult struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	// Error is the one-line error of a failed command.
	Error    string `json:"error,omitempty"`
	Database string `json:"database,omitempty"`
	File     string `json:"file,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	// Existing: restore-point found a complete restore point of that name
	// and kept it.
	Existing bool `json:"existing,omitempty"`
	// Modules counts the modules read (uninstallable ones left out).
	Modules int `json:"modules,omitempty"`
	// Pending lists the modules marked 'to upgrade', 'to install' or 'to
	// remove', as "name (state)".
	Pending []string `json:"pending,omitempty"`
	Seconds float64  `json:"seconds"`
}

// newDataCommand is `odoo-operator data`: the database work the operator's
// Jobs run. The connection comes from the libpq environment (PGHOST,
// PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE, PGSSLMODE, ...),
// which pg_dump and pg_restore inherit.
func newDataCommand() *cobra.Command {
	opts := &dataOptions{}
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Database work run by the operator's Jobs: restore points, restores, module snapshots",
		Long: "Database work run by the operator's Jobs. The connection comes from the libpq environment\n" +
			"(PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE, PGSSLMODE); a password is never\n" +
			"taken from the command line. Progress goes to stderr; the result, as one JSON line, to the\n" +
			"termination log.",
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.pgBinDir, "pg-bin-dir", os.Getenv("PG_BIN_DIR"), "directory of pg_dump and pg_restore (env PG_BIN_DIR; empty: PATH)")
	pf.StringVar(&opts.terminationLog, "termination-log", "/dev/termination-log", "file that gets the result as one JSON line, when it exists and is writable (empty: none)")
	cmd.AddCommand(newRestorePointCommand(opts), newRestoreCommand(opts), newModulesCommand(opts))
	return cmd
}

func newRestorePointCommand(opts *dataOptions) *cobra.Command {
	var dir, name string
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "restore-point --dir DIR --name NAME",
		Short: "Snapshot ir_module_module into DIR/NAME.modules.json and dump the database into DIR/NAME.dump (+ .sha256)",
		Long: "Snapshot ir_module_module into DIR/NAME.modules.json and dump the database (PGDATABASE) into\n" +
			"DIR/NAME.dump with its checksum DIR/NAME.dump.sha256, both from one database snapshot. The checksum\n" +
			"is written last: a restore point without it is incomplete. A complete restore point of that name is\n" +
			"kept (reported with \"existing\": true) unless --overwrite is given, so a retried Job never replaces\n" +
			"the restore point taken before an upgrade.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd, opts, "restore-point", func(ctx context.Context, log *slog.Logger, res *DataResult) error {
				return restorePoint(ctx, log, opts, dir, name, overwrite, cmd.ErrOrStderr(), res)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "directory of the restore point (created if missing)")
	f.StringVar(&name, "name", "", "name of the restore point: letters, digits, '.', '_' and '-'")
	f.BoolVar(&overwrite, "overwrite", false, "replace a complete restore point of the same name")
	_ = cmd.MarkFlagRequired("dir")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newRestoreCommand(opts *dataOptions) *cobra.Command {
	var file, database string
	cmd := &cobra.Command{
		Use:   "restore --file DIR/NAME.dump --database TARGET",
		Short: "Verify a restore point and load it into an existing, empty database",
		Long: "Verify the dump against its .sha256 and read its table of contents, then load it with\n" +
			"pg_restore into TARGET, which must exist and be empty (a live database is never written into).\n" +
			"When DIR/NAME.modules.json is there, the restored modules must match it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd, opts, "restore", func(ctx context.Context, log *slog.Logger, res *DataResult) error {
				return restore(ctx, log, opts, file, database, cmd.ErrOrStderr(), res)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "dump written by restore-point")
	f.StringVar(&database, "database", "", "target database: existing and empty")
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagRequired("database")
	return cmd
}

func newModulesCommand(opts *dataOptions) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "modules",
		Short: "Print the module snapshot (ir_module_module) of the database as one JSON line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd, opts, "modules", func(ctx context.Context, _ *slog.Logger, res *DataResult) error {
				conn, err := dbtools.ConnectEnv(ctx, database)
				if err != nil {
					return err
				}
				defer closeConn(ctx, conn)
				snap, err := moduleSnapshot(ctx, conn)
				if err != nil {
					return err
				}
				setModules(res, snap)
				return json.NewEncoder(cmd.OutOrStdout()).Encode(snap)
			})
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "database to read (empty: PGDATABASE)")
	return cmd
}

// runData runs a data subcommand: it stops on SIGTERM or SIGINT, logs to
// stderr, writes the result to the termination log, and returns the error
// with the PGPASSWORD value scrubbed from it.
func runData(cmd *cobra.Command, opts *dataOptions, name string, run func(context.Context, *slog.Logger, *DataResult) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("command", name)
	start := time.Now()
	res := DataResult{Command: name}
	err := run(ctx, log, &res)
	res.Seconds = time.Since(start).Round(time.Millisecond).Seconds()
	if err != nil {
		err = scrubbedError{err}
		res.OK, res.Error = false, err.Error()
	} else {
		res.OK = true
		log.Info("done", "seconds", res.Seconds)
	}
	if werr := writeTerminationLog(opts.terminationLog, res); werr != nil {
		log.Warn("termination log not written", "path", opts.terminationLog, "error", werr.Error())
	}
	return err
}

// restoreNamePattern keeps a restore point's name a plain file name.
var restoreNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

func restorePoint(ctx context.Context, log *slog.Logger, opts *dataOptions, dir, name string, overwrite bool, stderr io.Writer, res *DataResult) error {
	if !restoreNamePattern.MatchString(name) {
		return fmt.Errorf("--name %q: use 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	dumpPath := filepath.Join(dir, name+".dump")
	modulesPath := filepath.Join(dir, name+".modules.json")
	res.File = dumpPath

	if !overwrite {
		if done, err := existingRestorePoint(ctx, log, dumpPath, modulesPath, res); done || err != nil {
			return err
		}
	}
	// From here until the new checksum is written, no complete restore point
	// of this name exists.
	if err := os.Remove(dbtools.ChecksumPath(dumpPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the old checksum: %w", err)
	}

	conn, err := dbtools.ConnectEnv(ctx, "")
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	// The module snapshot and the dump come from one database snapshot.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("starting the snapshot transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snapshotID string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshotID); err != nil {
		return fmt.Errorf("exporting the snapshot: %w", err)
	}
	snap, err := moduleSnapshot(ctx, conn)
	if err != nil {
		return err
	}
	setModules(res, snap)
	if err := dbtools.WriteModuleSnapshot(modulesPath, snap); err != nil {
		return fmt.Errorf("writing %s: %w", modulesPath, err)
	}
	log.Info("module snapshot written", "database", snap.Database, "file", modulesPath, "modules", len(snap.Modules), "pending", len(res.Pending))

	log.Info("dumping", "database", snap.Database, "file", dumpPath)
	dr, err := dbtools.Dump(ctx, dbtools.DumpOptions{
		File: dumpPath, Database: snap.Database, PGBinDir: opts.pgBinDir, Snapshot: snapshotID, Stderr: stderr,
	})
	if err != nil {
		return err
	}
	res.Bytes, res.SHA256 = dr.Size, dr.SHA256
	log.Info("dump written", "file", dr.File, "bytes", dr.Size, "sha256", dr.SHA256, "seconds", dr.Duration.Round(time.Millisecond).Seconds())
	return nil
}

// existingRestorePoint reports whether a complete restore point (a dump
// that verifies and its module snapshot) is already there, filling res.
func existingRestorePoint(ctx context.Context, log *slog.Logger, dumpPath, modulesPath string, res *DataResult) (bool, error) {
	if _, err := os.Stat(dbtools.ChecksumPath(dumpPath)); err != nil {
		return false, nil
	}
	log.Info("verifying the existing restore point", "file", dumpPath)
	sum, err := dbtools.VerifyDump(ctx, dumpPath)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		log.Info("replacing the incomplete restore point", "reason", err.Error())
		return false, nil
	}
	snap, err := dbtools.ReadModuleSnapshot(modulesPath)
	if err != nil {
		log.Info("replacing the incomplete restore point", "reason", err.Error())
		return false, nil
	}
	fi, err := os.Stat(dumpPath)
	if err != nil {
		return false, err
	}
	setModules(res, snap)
	res.Existing, res.Bytes, res.SHA256 = true, fi.Size(), sum
	log.Info("keeping the complete restore point of that name", "file", dumpPath, "takenAt", snap.TakenAt)
	return true, nil
}

func restore(ctx context.Context, log *slog.Logger, opts *dataOptions, file, database string, stderr io.Writer, res *DataResult) error {
	res.File, res.Database = file, database
	log.Info("restoring", "file", file, "database", database)
	if err := dbtools.Restore(ctx, dbtools.RestoreOptions{File: file, Database: database, PGBinDir: opts.pgBinDir, Stderr: stderr}); err != nil {
		return err
	}
	conn, err := dbtools.ConnectEnv(ctx, database)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn)
	got, err := moduleSnapshot(ctx, conn)
	if err != nil {
		return fmt.Errorf("checking the restored database: %w", err)
	}
	setModules(res, got)
	modulesPath := strings.TrimSuffix(file, ".dump") + ".modules.json"
	want, err := dbtools.ReadModuleSnapshot(modulesPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("no module snapshot next to the dump; modules not compared", "file", modulesPath)
	case err != nil:
		return err
	case !slices.Equal(got.Modules, want.Modules):
		return fmt.Errorf("restored database %q does not match the module snapshot %s: %s",
			database, modulesPath, dbtools.CompareModules(want.Modules, got.Modules).Summary(10))
	default:
		log.Info("restored modules match the snapshot", "modules", len(got.Modules))
	}
	if fi, err := os.Stat(file); err == nil {
		res.Bytes = fi.Size()
	}
	return nil
}

func moduleSnapshot(ctx context.Context, conn *pgx.Conn) (dbtools.ModuleSnapshot, error) {
	db := conn.Config().Database
	mods, err := dbtools.ReadModules(ctx, conn)
	if err != nil {
		return dbtools.ModuleSnapshot{}, fmt.Errorf("database %q: %w", db, err)
	}
	return dbtools.ModuleSnapshot{Database: db, TakenAt: time.Now().UTC(), Modules: mods}, nil
}

func setModules(res *DataResult, snap dbtools.ModuleSnapshot) {
	res.Database, res.Modules, res.Pending = snap.Database, len(snap.Modules), nil
	for _, m := range dbtools.PendingModules(snap.Modules) {
		res.Pending = append(res.Pending, fmt.Sprintf("%s (%s)", m.Name, m.State))
	}
}

func closeConn(ctx context.Context, conn *pgx.Conn) {
	_ = conn.Close(context.WithoutCancel(ctx))
}

// writeTerminationLog writes res as one JSON line to path when path exists
// (it is never created) and is writable.
func writeTerminationLog(path string, res DataResult) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0) //nolint:gosec // the path the Job names
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(encodeResult(res, TerminationLogLimit)); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// encodeResult is res as one JSON line of at most limit bytes: the list of
// pending modules, then the error, are shortened until it fits.
func encodeResult(res DataResult, limit int) []byte {
	encode := func() []byte {
		b, _ := json.Marshal(res)
		return append(b, '\n')
	}
	b := encode()
	if len(b) <= limit {
		return b
	}
	if n := len(res.Pending); n > 0 {
		all := res.Pending
		for keep := n - 1; keep >= 0 && len(b) > limit; keep-- {
			res.Pending = append(slices.Clone(all[:keep]), fmt.Sprintf("+%d more", n-keep))
			b = encode()
		}
	}
	for len(b) > limit && res.Error != "" {
		cut := len(res.Error) - (len(b) - limit) - len("…")
		if cut <= 0 {
			break
		}
		for cut > 0 && !utf8.RuneStart(res.Error[cut]) {
			cut--
		}
		res.Error = res.Error[:cut] + "…"
		b = encode()
	}
	if len(b) > limit {
		b, _ = json.Marshal(DataResult{Command: res.Command, OK: res.OK, Error: "result too long for the termination log", Seconds: res.Seconds})
		b = append(b, '\n')
	}
	return b
}

// scrubbedError hides the value of PGPASSWORD in the message of err (no
// known message carries it; this is a second line of defence).
type scrubbedError struct{ err error }

func (e scrubbedError) Error() string {
	msg := strings.ReplaceAll(e.err.Error(), "\n", " ")
	if pw := os.Getenv("PGPASSWORD"); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "********")
	}
	return msg
}

func (e scrubbedError) Unwrap() error { return e.err }

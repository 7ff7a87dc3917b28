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
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/egress"
)

// dataOptions are the flags shared by the data subcommands.
type dataOptions struct {
	pgBinDir       string
	terminationLog string
}

// newDataCommand is `odoo-operator data`: the database work the operator's
// Jobs run. The connection comes from the libpq environment (PGHOST,
// PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE, PGSSLMODE, ...),
// which pg_dump and pg_restore inherit.
func newDataCommand() *cobra.Command {
	opts := &dataOptions{}
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Database work run by the operator's Jobs: backups, restores, module snapshots",
		Long: "Database work run by the operator's Jobs. The connection comes from the libpq environment\n" +
			"(PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE, PGSSLMODE); a password is never\n" +
			"taken from the command line. Progress goes to stderr; the result, as one JSON line, to the\n" +
			"termination log.",
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.pgBinDir, "pg-bin-dir", os.Getenv("PG_BIN_DIR"), "directory of pg_dump and pg_restore (env PG_BIN_DIR; empty: PATH)")
	pf.StringVar(&opts.terminationLog, "termination-log", "/dev/termination-log", "file that gets the result as one JSON line, when it exists and is writable (empty: none)")
	cmd.AddCommand(newModulesCommand(opts), newBackupCommand(opts), newRestoreBackupCommand(opts),
		newDeleteBackupCommand(opts), newSwapFilestoreCommand(opts))
	return cmd
}

func newModulesCommand(opts *dataOptions) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "modules",
		Short: "Print the module snapshot (ir_module_module) of the database as one JSON line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runData(cmd, opts, "modules", func(ctx context.Context, _ *slog.Logger, res *datajob.Result) error {
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

// dataRunE is the RunE of a data subcommand that runs run through runData,
// passing it the command's stderr.
func dataRunE(opts *dataOptions, name string, run func(ctx context.Context, log *slog.Logger, stderr io.Writer, res *datajob.Result) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return runData(cmd, opts, name, func(ctx context.Context, log *slog.Logger, res *datajob.Result) error {
			return run(ctx, log, cmd.ErrOrStderr(), res)
		})
	}
}

// runData runs a data subcommand: it stops on SIGTERM or SIGINT, logs to
// stderr, writes the result to the termination log, and returns the error
// with the PGPASSWORD value scrubbed from it.
func runData(cmd *cobra.Command, opts *dataOptions, name string, run func(context.Context, *slog.Logger, *datajob.Result) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("command", name)
	start := time.Now()
	res := datajob.Result{Command: name}
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

func moduleSnapshot(ctx context.Context, conn *pgx.Conn) (dbtools.ModuleSnapshot, error) {
	db := conn.Config().Database
	mods, err := dbtools.ReadModules(ctx, conn)
	if err != nil {
		return dbtools.ModuleSnapshot{}, fmt.Errorf("database %q: %w", db, err)
	}
	return dbtools.ModuleSnapshot{Database: db, TakenAt: time.Now().UTC(), Modules: mods}, nil
}

func setModules(res *datajob.Result, snap dbtools.ModuleSnapshot) {
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
func writeTerminationLog(path string, res datajob.Result) error {
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
	if _, err := f.Write(encodeResult(res, datajob.TerminationLogLimit)); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// encodeResult is res as one JSON line of at most limit bytes: the list of
// pending modules, then the error, are shortened until it fits.
func encodeResult(res datajob.Result, limit int) []byte {
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
		b, _ = json.Marshal(datajob.Result{Command: res.Command, OK: res.OK, Error: "result too long for the termination log", Seconds: res.Seconds})
		b = append(b, '\n')
	}
	return b
}

// scrubbedError hides the values of the secrets a data Job gets (PGPASSWORD,
// the S3 secret key, a source Odoo's master password) in the message of err
// (no known message carries them; this is a second line of defence).
type scrubbedError struct{ err error }

func (e scrubbedError) Error() string {
	msg := strings.ReplaceAll(e.err.Error(), "\n", " ")
	for _, name := range []string{"PGPASSWORD", "AWS_SECRET_ACCESS_KEY", EnvOdooMasterPassword} {
		if pw := os.Getenv(name); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "********")
		}
	}
	return msg
}

func (e scrubbedError) Unwrap() error { return e.err }

// Backup formats of `data backup`.
const (
	BackupFormatZip  = "zip"
	BackupFormatDump = "dump"
)

// filestoreSuffix names the filestore tar stored beside a dump-format
// backup: NAME.filestore.tar (and its NAME.filestore.tar.sha256).
const filestoreSuffix = ".filestore.tar"

type backupFlags struct {
	format, filestore, to, database, odooVersion, runID string
	overwrite                                           bool
}

func newBackupCommand(opts *dataOptions) *cobra.Command {
	var f backupFlags
	cmd := &cobra.Command{
		Use:   "backup --to s3://BUCKET/PREFIX/NAME|file:///DIR/NAME [--format zip|dump] [--filestore DIR]",
		Short: "Back up the database (and its filestore) to S3 or a directory, with NAME.sha256 beside it",
		Long: "Back up the database (PGDATABASE, or --database) to S3 or a directory, streaming, with its sha256 in\n" +
			"NAME.sha256 beside it, written last: a backup without it is incomplete.\n\n" +
			"  zip   Odoo's database manager format: dump.sql (plain SQL), manifest.json and filestore/ (from\n" +
			"        --filestore, the database's data_dir/filestore/<db>); it loads in Odoo's database manager.\n" +
			"  dump  PostgreSQL's custom format (Odoo's \"dump\" format, for pg_restore); with --filestore, the\n" +
			"        filestore goes to NAME" + filestoreSuffix + " (and its .sha256) beside it.\n\n" +
			"S3 settings come from the environment: S3_ENDPOINT (host:port or an http(s) URL), S3_BUCKET (when\n" +
			"the URL names none), S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_INSECURE=true for\n" +
			"plain HTTP, S3_PART_SIZE_MB. A complete backup of that name is kept (\"existing\": true) unless\n" +
			"--overwrite is given, so a retried Job does not redo it. With --run-id, the id is recorded in\n" +
			"NAME.sha256 and only a backup of the same run id is kept: a complete backup written by anyone\n" +
			"else is neither overwritten nor reported as this one (the command fails).",
		Args: cobra.NoArgs,
		RunE: dataRunE(opts, "backup", func(ctx context.Context, log *slog.Logger, stderr io.Writer, res *datajob.Result) error {
			return backupTo(ctx, log, opts, f, stderr, res)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", BackupFormatZip, "zip (Odoo's, with the filestore) or dump (pg_dump custom format)")
	fl.StringVar(&f.filestore, "filestore", "", "the database's filestore directory (empty: no filestore)")
	fl.StringVar(&f.to, "to", "", "where the backup goes: s3://BUCKET/PREFIX/NAME or file:///DIR/NAME")
	fl.StringVar(&f.database, "database", "", "database to back up (empty: PGDATABASE)")
	fl.StringVar(&f.odooVersion, "odoo-version", "", "Odoo version for manifest.json, e.g. 18.0 (empty: the series of module base)")
	fl.BoolVar(&f.overwrite, "overwrite", false, "replace a complete backup of the same name")
	fl.StringVar(&f.runID, "run-id", "", "identifies this backup (the OdooBackupJob's uid): recorded beside it; a complete backup of another run is refused")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func backupTo(ctx context.Context, log *slog.Logger, opts *dataOptions, f backupFlags, stderr io.Writer, res *datajob.Result) error {
	if f.format != BackupFormatZip && f.format != BackupFormatDump {
		return fmt.Errorf("--format %q: want %s or %s", f.format, BackupFormatZip, BackupFormatDump)
	}
	if f.filestore != "" {
		empty, err := emptyIfMissing(f.filestore)
		if err != nil {
			return err
		}
		if empty != "" {
			// A new database has no attachment yet, so Odoo never made its
			// filestore directory: the backup holds an empty filestore.
			log.Info("no filestore directory yet: backing up an empty filestore", "filestore", f.filestore)
			defer func() { _ = os.Remove(empty) }()
			f.filestore = empty
		}
	}
	store, key, fsKey, err := openBackupLocation(f.to, res)
	if err != nil {
		return err
	}
	res.Format, res.Database, res.RunID = f.format, f.database, f.runID
	if res.Database == "" {
		res.Database = os.Getenv("PGDATABASE")
	}
	if !f.overwrite {
		if done, err := existingBackup(ctx, store, key, f.format == BackupFormatDump && f.filestore != "", f.runID, res); done || err != nil {
			if done {
				log.Info("keeping the complete backup of that name", "to", res.File, "sha256", res.SHA256)
			}
			return err
		}
	}
	// Until the new checksum is written, no complete backup of this name
	// exists.
	for _, k := range []string{objectstore.ChecksumKey(key), objectstore.ChecksumKey(fsKey), fsKey} {
		if err := store.Delete(ctx, k); err != nil {
			return err
		}
	}
	log.Info("backing up", "database", res.Database, "format", f.format, "to", res.File, "store", store.String())
	var main odoozip.Result
	var n int64
	switch f.format {
	case BackupFormatZip:
		n, err = objectstore.PutWriter(ctx, store, key, func(w io.Writer) error {
			var err error
			main, err = odoozip.Write(ctx, w, odoozip.WriteOptions{Database: f.database, FilestoreDir: f.filestore,
				OdooVersion: f.odooVersion, PGBinDir: opts.pgBinDir, Stderr: stderr})
			return err
		})
		res.Database, res.FilestoreFiles = main.Manifest.DBName, main.FilestoreFiles
	case BackupFormatDump:
		n, err = objectstore.PutWriter(ctx, store, key, func(w io.Writer) error {
			var err error
			main, err = odoozip.WriteDump(ctx, w, odoozip.DumpOptions{Database: f.database, PGBinDir: opts.pgBinDir, Stderr: stderr})
			return err
		})
		if err == nil && f.filestore != "" {
			// After the dump, so that every attachment it names has its file.
			var fsRes odoozip.Result
			if _, err = objectstore.PutWriter(ctx, store, fsKey, func(w io.Writer) error {
				var err error
				fsRes, err = odoozip.WriteFilestoreTar(ctx, w, f.filestore)
				return err
			}); err == nil {
				err = objectstore.WriteChecksumRun(ctx, store, fsKey, fsRes.SHA256, f.runID)
			}
			res.FilestoreFiles = fsRes.FilestoreFiles
			log.Info("filestore stored", "key", fsKey, "files", fsRes.FilestoreFiles, "bytes", fsRes.Size)
		}
	}
	if err != nil {
		return err
	}
	if n != main.Size {
		return fmt.Errorf("stored %d bytes of a %d-byte backup", n, main.Size)
	}
	if err := objectstore.WriteChecksumRun(ctx, store, key, main.SHA256, f.runID); err != nil {
		return err
	}
	res.Bytes, res.SHA256 = main.Size, main.SHA256
	log.Info("backup stored", "to", res.File, "bytes", main.Size, "sha256", main.SHA256, "filestoreFiles", res.FilestoreFiles,
		"seconds", main.Duration.Round(time.Millisecond).Seconds())
	return nil
}

// openBackupLocation opens the store of a backup location (s3:// or
// file://, S3 settings from the environment) and returns the keys of the
// backup and of its filestore tar; res.File gets the location.
func openBackupLocation(location string, res *datajob.Result) (store objectstore.Store, key, fsKey string, err error) {
	loc, err := objectstore.ParseLocation(location)
	if err != nil {
		return nil, "", "", err
	}
	if store, err = objectstore.Open(loc, os.Getenv); err != nil {
		return nil, "", "", err
	}
	res.File = loc.String()
	return store, loc.Name, loc.Name + filestoreSuffix, nil
}

// existingBackup reports whether a complete backup (the object and its
// checksum file, and the filestore tar and its checksum when wanted) is
// already stored under key, filling res. With a runID, a complete backup
// that another run wrote is an error: it is neither overwritten nor
// reported as this run's.
func existingBackup(ctx context.Context, store objectstore.Store, key string, withFilestore bool, runID string, res *datajob.Result) (bool, error) {
	sum, run, err := objectstore.ReadChecksumRun(ctx, store, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if runID != "" && run != runID {
		writer := "a writer that recorded no run id"
		if run != "" {
			writer = "run " + run
		}
		return false, fmt.Errorf("%s already holds a complete backup written by %s, not by this run (%s): it is neither overwritten nor reported as this backup; store this backup under another name",
			res.File, writer, runID)
	}
	obj, err := store.Stat(ctx, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if withFilestore {
		if _, err := objectstore.ReadChecksum(ctx, store, key+filestoreSuffix); errors.Is(err, objectstore.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	res.Existing, res.Bytes, res.SHA256 = true, obj.Size, sum
	return true, nil
}

type restoreBackupFlags struct {
	from, database, filestore, workDir string
	skipFilestore                      bool
}

func newRestoreBackupCommand(opts *dataOptions) *cobra.Command {
	var f restoreBackupFlags
	cmd := &cobra.Command{
		Use:   "restore-backup --from s3://BUCKET/PREFIX/NAME|file:///DIR/NAME|https://ODOO --database TARGET [--filestore DIR]",
		Short: "Verify a backup against its NAME.sha256 and restore it into an empty database and filestore",
		Long: "Fetch a backup written by `data backup` (or an Odoo zip with a NAME.sha256 beside it), check its sha256\n" +
			"and, for a zip, its CRCs, layout and manifest, before anything is written; then load it into TARGET,\n" +
			"which must exist and be empty (a live database is never written into), and its filestore into\n" +
			"--filestore, which must be absent or empty. The filestore is moved into place only once the\n" +
			"database is loaded. S3 settings come from the environment, as for `data backup`.\n\n" +
			"With an http(s) URL, the backup is taken from that live Odoo's database manager\n" +
			"(/web/database/backup, zip with filestore) of the database $ODOO_SOURCE_DATABASE, with the master\n" +
			"password $ODOO_MASTER_PASSWORD; its sha256 is computed while it downloads. The request may not reach\n" +
			"loopback, private, link-local or cluster addresses, nor send the password over plain http, unless\n" +
			"$" + egress.EnvAllow + " (CIDR[:PORT[-PORT]],...) and $" + egress.EnvAllowHTTPCredentials + "=true allow it\n" +
			"($" + egress.EnvDeny + " adds denied CIDRs); the operator sets them from its --egress-* flags.",
		Args: cobra.NoArgs,
		RunE: dataRunE(opts, "restore-backup", func(ctx context.Context, log *slog.Logger, stderr io.Writer, res *datajob.Result) error {
			return restoreBackup(ctx, log, opts, f, stderr, res)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "the backup: s3://BUCKET/PREFIX/NAME, file:///DIR/NAME, or a live Odoo's http(s) base URL")
	fl.StringVar(&f.database, "database", "", "target database: existing and empty")
	fl.StringVar(&f.filestore, "filestore", "", "filestore directory to restore into: absent or empty")
	fl.BoolVar(&f.skipFilestore, "skip-filestore", false, "restore the database only")
	fl.StringVar(&f.workDir, "work-dir", os.TempDir(), "where a backup from S3 is downloaded (it needs the backup's size)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("database")
	return cmd
}

func restoreBackup(ctx context.Context, log *slog.Logger, opts *dataOptions, f restoreBackupFlags, stderr io.Writer, res *datajob.Result) error {
	if isOdooSource(f.from) {
		return restoreFromOdoo(ctx, log, opts, f, stderr, res)
	}
	store, key, fsKey, err := openBackupLocation(f.from, res)
	if err != nil {
		return err
	}
	res.Database = f.database
	sum, err := objectstore.ReadChecksum(ctx, store, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		return fmt.Errorf("%s has no checksum file %s: the backup is missing or incomplete", res.File, objectstore.ChecksumKey(key))
	}
	if err != nil {
		return err
	}
	// Local copies: the zip needs random access, pg_restore a file.
	work, err := os.MkdirTemp(f.workDir, "restore-backup-")
	if err != nil {
		return fmt.Errorf("--work-dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	local := func(k, sum string) (string, error) {
		if d, ok := store.(*objectstore.Dir); ok {
			return d.Path(k)
		}
		p := filepath.Join(work, path.Base(k))
		log.Info("downloading", "key", k, "store", store.String())
		if err := download(ctx, store, k, p); err != nil {
			return "", err
		}
		// dbtools.Restore reads the checksum beside the dump.
		return p, os.WriteFile(p+".sha256", []byte(objectstore.ChecksumLine(sum, k)), 0o600)
	}
	file, err := local(key, sum)
	if err != nil {
		return err
	}
	format, err := sniffFormat(file)
	if err != nil {
		return err
	}
	res.Format = format
	log.Info("restoring", "from", res.File, "format", format, "database", f.database, "filestore", f.filestore)
	switch format {
	case BackupFormatZip:
		if err := restoreZip(ctx, log, opts, f, file, sum, stderr, res); err != nil {
			return err
		}
	case BackupFormatDump:
		size, err := odoozip.VerifySHA256(ctx, file, sum)
		if err != nil {
			return err
		}
		res.Bytes = size
		var stage *odoozip.StagedFilestore
		fsSum, err := objectstore.ReadChecksum(ctx, store, fsKey)
		switch {
		case errors.Is(err, objectstore.ErrNotFound):
			if f.filestore != "" && !f.skipFilestore {
				log.Info("the backup holds no filestore; the filestore directory is left alone", "filestore", f.filestore)
			}
		case err != nil:
			return err
		case f.skipFilestore:
		case f.filestore == "":
			return fmt.Errorf("the backup holds a filestore (%s): give --filestore, or --skip-filestore", fsKey)
		default:
			fsFile, err := local(fsKey, fsSum)
			if err != nil {
				return err
			}
			if stage, err = odoozip.StageFilestoreTar(ctx, fsFile, fsSum, f.filestore); err != nil {
				return err
			}
			defer stage.Discard()
		}
		if err := dbtools.Restore(ctx, dbtools.RestoreOptions{File: file, Database: f.database, PGBinDir: opts.pgBinDir, Stderr: stderr}); err != nil {
			return err
		}
		if stage != nil {
			if err := stage.Commit(); err != nil {
				return err
			}
			res.FilestoreFiles = stage.Files
		}
	}
	res.SHA256 = sum
	return nil
}

// restoreZip loads an Odoo zip whose sha256 is known into the target.
func restoreZip(ctx context.Context, log *slog.Logger, opts *dataOptions, f restoreBackupFlags, file, sum string, stderr io.Writer, res *datajob.Result) error {
	info, err := odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: sum, Database: f.database,
		FilestoreDir: f.filestore, SkipFilestore: f.skipFilestore, PGBinDir: opts.pgBinDir, Stderr: stderr})
	if err != nil {
		return err
	}
	if !f.skipFilestore && f.filestore != "" {
		res.FilestoreFiles = info.FilestoreFiles
	}
	res.Bytes = info.Size
	log.Info("restored", "odooVersion", info.Manifest.Version, "sourceDatabase", info.Manifest.DBName, "pgVersion", info.Manifest.PGVersion,
		"modules", len(info.Manifest.Modules), "filestoreFiles", res.FilestoreFiles)
	return nil
}

// download copies the object key to the file p.
func download(ctx context.Context, store objectstore.Store, key, p string) error {
	r, err := store.Get(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // a file in the command's own work directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		return fmt.Errorf("downloading %s: %w", key, err)
	}
	return out.Close()
}

// sniffFormat tells a zip from a custom-format dump by its first bytes.
func sniffFormat(file string) (string, error) {
	fh, err := os.Open(file) //nolint:gosec // the backup being restored
	if err != nil {
		return "", err
	}
	defer func() { _ = fh.Close() }()
	head := make([]byte, 5)
	n, _ := io.ReadFull(fh, head)
	switch {
	case n >= 4 && string(head[:4]) == "PK\x03\x04":
		return BackupFormatZip, nil
	case n == 5 && string(head) == "PGDMP":
		return BackupFormatDump, nil
	}
	return "", fmt.Errorf("%w: %s is neither an Odoo zip nor a pg_dump custom-format archive", odoozip.ErrInvalid, filepath.Base(file))
}

// emptyIfMissing returns a new empty directory to stand in for dir when dir
// does not exist, "" when it does.
func emptyIfMissing(dir string) (string, error) {
	_, err := os.Stat(dir)
	switch {
	case err == nil:
		return "", nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("--filestore %s: %w", dir, err)
	}
	return os.MkdirTemp("", "empty-filestore-")
}

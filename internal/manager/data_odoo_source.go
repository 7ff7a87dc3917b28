package manager

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoosource"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Environment of `data restore-backup --from https://...`: the live Odoo's
// database and master password (the password by secretKeyRef only).
const (
	EnvOdooSourceDatabase = resources.EnvOdooSourceDatabase
	EnvOdooMasterPassword = resources.EnvOdooMasterPassword
)

// isOdooSource tells a live Odoo's URL from a backup location.
func isOdooSource(from string) bool {
	return strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://")
}

// restoreFromOdoo downloads the database from a live Odoo's database
// manager, then loads the zip like a stored one: its CRCs, layout and
// manifest are checked before the target is written.
func restoreFromOdoo(ctx context.Context, log *slog.Logger, opts *dataOptions, f restoreBackupFlags, stderr io.Writer, res *datajob.Result) error {
	source := os.Getenv(EnvOdooSourceDatabase)
	if source == "" {
		return fmt.Errorf("$%s is empty: name the database to back up on %s", EnvOdooSourceDatabase, f.from)
	}
	password := os.Getenv(EnvOdooMasterPassword)
	if password == "" {
		return fmt.Errorf("$%s is empty: the source Odoo's master password is needed to back it up", EnvOdooMasterPassword)
	}
	res.File, res.Database, res.Format = f.from, f.database, BackupFormatZip
	// The operator's egress policy, passed by environment: the Job makes the
	// tenant's request, so it enforces the same limits as the operator.
	policy, err := egress.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(f.workDir, "restore-backup-")
	if err != nil {
		return fmt.Errorf("--work-dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	file := filepath.Join(work, "source.zip")
	log.Info("downloading from a live Odoo", "url", f.from, "sourceDatabase", source)
	got, err := odoosource.Fetch(ctx, odoosource.Options{URL: f.from, Database: source, MasterPassword: password, File: file, Egress: policy})
	if err != nil {
		return err
	}
	log.Info("downloaded", "bytes", got.Size, "sha256", got.SHA256)
	if err := restoreZip(ctx, log, opts, f, file, got.SHA256, stderr, res); err != nil {
		return err
	}
	res.SHA256 = got.SHA256
	return nil
}

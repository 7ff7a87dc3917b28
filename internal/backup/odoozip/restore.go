package odoozip

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// RestoreOptions configure Restore. The connection comes from the process's
// PG* environment, which psql inherits; only the database differs.
type RestoreOptions struct {
	// File is the zip, a local file.
	File string
	// SHA256 is the archive's checksum (hex), from its .sha256 file.
	SHA256 string
	// Database is the target. It must exist and be empty.
	Database string
	// FilestoreDir receives the archive's filestore/; it must be absent or
	// an empty directory. Empty: the archive must hold no filestore, unless
	// SkipFilestore.
	FilestoreDir string
	// SkipFilestore restores the database only.
	SkipFilestore bool
	// PGBinDir is unused: dump.sql is loaded without psql (see
	// dbtools.LoadSQL). Kept so that callers need not change.
	PGBinDir string
	// Stderr, when set, also receives the server's notices and the error.
	Stderr io.Writer
}

// ErrTargetNotEmpty is returned for a target database that holds
// relations, like dbtools.ErrTargetNotEmpty, which it wraps.
var ErrTargetNotEmpty = dbtools.ErrTargetNotEmpty

// Restore loads an Odoo backup zip into an existing, empty database and
// its filestore into a new directory, in this order, stopping at the first
// failure:
//
//  0. the filestore the zip declares (uncompressed) must fit on the
//     filestore's volume with SpaceReserve to spare, so a zip bomb is
//     refused before anything is inflated or written;
//  1. Verify: the sha256, the zip's CRCs, its layout and its manifest (no
//     database is touched, no file written);
//  2. the filestore directory must be absent or empty, and the target
//     database must exist and hold no relation (a live database is never
//     written into);
//  3. filestore/ is extracted into a temporary directory beside the
//     destination;
//  4. dump.sql is streamed from the zip to the server in one transaction,
//     so a failed load leaves the target empty; it is SQL and COPY data
//     only: no psql runs it, and a psql meta-command (`\! cmd`, `\o |cmd`,
//     `\copy ... program`) in it stops the load, which is rolled back (see
//     dbtools.LoadSQL);
//  5. the installed modules of the restored database must be those of the
//     manifest;
//  6. the filestore is moved into place.
func Restore(ctx context.Context, opts RestoreOptions) (Info, error) {
	var info Info
	if err := postgres.ValidateDatabaseName(opts.Database); err != nil {
		return info, fmt.Errorf("restore: target: %w", err)
	}
	withFilestore := !opts.SkipFilestore && opts.FilestoreDir != ""
	if withFilestore {
		// Before the archive is even read through: a zip bomb costs neither
		// the time to inflate it nor the space.
		if need, err := filestoreDeclaredSize(opts.File); err == nil {
			free, err := freeSpace(opts.FilestoreDir)
			if err != nil {
				return info, err
			}
			if err := CheckFits(need, free); err != nil {
				return info, err
			}
		}
	}
	info, err := Verify(ctx, opts.File, opts.SHA256)
	if err != nil {
		return info, err
	}
	if !opts.SkipFilestore && opts.FilestoreDir == "" && info.FilestoreFiles > 0 {
		return info, fmt.Errorf("the backup holds a filestore of %d files: give the filestore directory, or skip the filestore", info.FilestoreFiles)
	}
	if withFilestore {
		if err := checkEmptyDir(opts.FilestoreDir); err != nil {
			return info, err
		}
	}
	if err := dbtools.CheckEmptyTarget(ctx, opts.Database); err != nil {
		return info, err
	}
	zr, closeZip, err := openZip(opts.File, info.Size)
	if err != nil {
		return info, err
	}
	defer closeZip()

	var stage *StagedFilestore
	if withFilestore {
		if stage, err = stageZipFilestore(ctx, zr, opts.FilestoreDir); err != nil {
			return info, err
		}
		defer stage.Discard()
	}

	var dump *zip.File
	for _, f := range zr.File {
		if f.Name == DumpName {
			dump = f
		}
	}
	rc, err := dump.Open()
	if err != nil {
		return info, fmt.Errorf("%w: %s: %w", ErrInvalid, DumpName, err)
	}
	defer func() { _ = rc.Close() }()
	// Never more than the size the zip declares and Verify read.
	dumpSQL := &exactReader{r: rc, n: declaredSize(dump)}
	if err := dbtools.LoadSQL(ctx, opts.Database, dumpSQL, dbtools.LoadSQLOptions{Name: DumpName, Stderr: opts.Stderr}); err != nil {
		return info, err
	}
	if err := checkModules(ctx, opts.Database, info.Manifest.Modules); err != nil {
		return info, err
	}
	if stage != nil {
		if err := stage.Commit(); err != nil {
			return info, err
		}
	}
	return info, nil
}

func stageZipFilestore(ctx context.Context, zr *zip.Reader, dest string) (*StagedFilestore, error) {
	s, err := newStage(dest)
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		rel, ok := strings.CutPrefix(f.Name, FilestoreName+"/")
		if !ok || strings.TrimSuffix(rel, "/") == "" {
			continue
		}
		if f.FileInfo().IsDir() {
			err = s.mkdir(strings.TrimSuffix(rel, "/"))
		} else {
			err = extractMember(ctx, s, rel, f)
		}
		if err != nil {
			s.Discard()
			return nil, err
		}
	}
	return s, nil
}

func extractMember(ctx context.Context, s *StagedFilestore, rel string, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: member %s: %w", ErrInvalid, f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	return s.add(ctx, rel, &exactReader{r: rc, n: declaredSize(f)})
}

// checkModules compares the installed modules of the restored database
// with those of the manifest.
func checkModules(ctx context.Context, database string, want map[string]string) error {
	conn, err := dbtools.ConnectEnv(ctx, database)
	if err != nil {
		return fmt.Errorf("checking the restored database: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	mods, err := dbtools.ReadModules(ctx, conn)
	if err != nil {
		return fmt.Errorf("checking the restored database: %w", err)
	}
	got := map[string]string{}
	for _, m := range mods {
		if m.State == "installed" {
			got[m.Name] = m.LatestVersion
		}
	}
	if !maps.Equal(got, want) {
		var diff []string
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if v, ok := got[k]; !ok || v != want[k] {
				diff = append(diff, fmt.Sprintf("%s %q → %q", k, want[k], v))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[k]; !ok {
				diff = append(diff, fmt.Sprintf("%s not in the manifest", k))
			}
		}
		if len(diff) > 5 {
			diff = append(diff[:5], fmt.Sprintf("+%d more", len(diff)-5))
		}
		return fmt.Errorf("restored database %q does not match the manifest's modules: %s", database, strings.Join(diff, ", "))
	}
	return nil
}

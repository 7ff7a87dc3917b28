// Package odoozip writes, checks and restores Odoo's backups: the zip of
// Odoo's database manager (dump.sql, filestore/, manifest.json), the
// PostgreSQL custom-format dump that is Odoo's "dump" format, and a tar of
// the filestore to go beside such a dump.
//
// Everything streams: a backup is written to an io.Writer (a file, an S3
// upload) while its sha256 is computed, and a restore reads the archive
// from a local file, checking it whole (sha256, zip CRCs, layout,
// manifest) before it touches the database or the filestore.
package odoozip

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	kflate "github.com/klauspost/compress/flate"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/pgtool"
)

// Names in Odoo's zip.
const (
	DumpName      = "dump.sql"
	ManifestName  = "manifest.json"
	FilestoreName = "filestore"
)

// WriteOptions configure Write. The connection comes from the process's PG*
// environment, which pg_dump inherits.
type WriteOptions struct {
	// Database to back up; empty: PGDATABASE.
	Database string
	// FilestoreDir is the database's filestore (data_dir/filestore/<db>);
	// empty: no filestore in the zip. It must exist.
	FilestoreDir string
	// OdooVersion is Odoo's release version ("18.0"); empty: the series of
	// base's latest_version in the database.
	OdooVersion string
	// PGBinDir is the directory of pg_dump; empty: PATH.
	PGBinDir string
	// CompressionLevel is the deflate level, 1 (fastest, the default) to 9.
	CompressionLevel int
	// Stderr, when set, also receives pg_dump's messages.
	Stderr io.Writer
}

// Result describes a written archive.
type Result struct {
	// Size and SHA256 are those of the whole archive as written.
	Size   int64
	SHA256 string
	// Manifest is the zip's manifest.json (zero for other formats).
	Manifest Manifest
	// DumpBytes is the size of the SQL dump (uncompressed, in a zip).
	DumpBytes int64
	// FilestoreFiles and FilestoreBytes count the filestore's files.
	FilestoreFiles int
	FilestoreBytes int64
	Duration       time.Duration
}

// hashingWriter counts and hashes what goes through it to w.
type hashingWriter struct {
	w    io.Writer
	hash hash.Hash
	n    int64
}

func newHashingWriter(w io.Writer) *hashingWriter { return &hashingWriter{w: w, hash: sha256.New()} }

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.hash.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingWriter) sum() string { return hex.EncodeToString(h.hash.Sum(nil)) }

// Write streams an Odoo backup zip of the database to w, in the layout of
// Odoo's dump_db: dump.sql (pg_dump --no-owner --no-privileges, plain
// SQL), then manifest.json, then the files of the filestore under
// filestore/. The manifest and the dump come from one database snapshot.
// The filestore is read after the dump, so every attachment the dump
// names is in it (files of attachments created meanwhile may be there too,
// which Odoo's garbage collection removes).
//
// On error, what was written to w is not a valid archive.
func Write(ctx context.Context, w io.Writer, opts WriteOptions) (Result, error) {
	start := time.Now()
	var res Result
	bin, err := pgtool.Path(opts.PGBinDir, "pg_dump")
	if err != nil {
		return res, err
	}
	if opts.FilestoreDir != "" {
		if fi, err := os.Stat(opts.FilestoreDir); err != nil || !fi.IsDir() {
			return res, fmt.Errorf("filestore directory %s: %w", opts.FilestoreDir, orNotDir(err))
		}
	}
	conn, err := dbtools.ConnectEnv(ctx, opts.Database)
	if err != nil {
		return res, err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("starting the snapshot transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return res, fmt.Errorf("exporting the snapshot: %w", err)
	}
	if res.Manifest, err = readManifest(ctx, conn, opts.OdooVersion); err != nil {
		return res, err
	}
	manifest, err := json.MarshalIndent(res.Manifest, "", "    ")
	if err != nil {
		return res, err
	}

	hw := newHashingWriter(w)
	zw := zip.NewWriter(hw)
	level := opts.CompressionLevel
	if level == 0 {
		level = kflate.BestSpeed
	}
	if level < kflate.BestSpeed || level > kflate.BestCompression {
		return res, fmt.Errorf("compression level %d: want 1 to 9", level)
	}
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, level) })
	now := time.Now()

	dump, err := zw.CreateHeader(&zip.FileHeader{Name: DumpName, Method: zip.Deflate, Modified: now})
	if err != nil {
		return res, err
	}
	cmd, tail := pgtool.Command(ctx, bin, []string{"--no-owner", "--no-privileges", "--snapshot=" + snapshot},
		[]string{"PGDATABASE=" + res.Manifest.DBName}, opts.Stderr)
	cw := &countingWriter{w: dump}
	cmd.Stdout = cw
	if err := cmd.Run(); err != nil {
		return res, pgtool.Error(ctx, "pg_dump", err, tail)
	}
	if res.DumpBytes = cw.n; cw.n == 0 {
		return res, errors.New("pg_dump wrote nothing")
	}
	_ = tx.Rollback(ctx)

	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: now})
	if err != nil {
		return res, err
	}
	if _, err := mw.Write(manifest); err != nil {
		return res, err
	}
	if opts.FilestoreDir != "" {
		err := walkFilestore(ctx, opts.FilestoreDir, func(rel string, fi fs.FileInfo, f *os.File) error {
			hdr, err := zip.FileInfoHeader(fi)
			if err != nil {
				return err
			}
			hdr.Name, hdr.Method = FilestoreName+"/"+rel, zip.Deflate
			fw, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			n, err := io.Copy(fw, f)
			res.FilestoreFiles++
			res.FilestoreBytes += n
			return err
		})
		if err != nil {
			return res, err
		}
	}
	if err := zw.Close(); err != nil {
		return res, err
	}
	res.Size, res.SHA256, res.Duration = hw.n, hw.sum(), time.Since(start)
	return res, nil
}

func orNotDir(err error) error {
	if err == nil {
		return errors.New("not a directory")
	}
	return err
}

// walkFilestore calls fn for every regular file under dir, in lexical
// order, with its '/'-separated path relative to dir and the open file.
// Other entries (symbolic links, sockets) are skipped: Odoo writes only
// regular files there.
func walkFilestore(ctx context.Context, dir string, fn func(rel string, fi fs.FileInfo, f *os.File) error) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the filestore: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path) //nolint:gosec // a file of the filestore being backed up
		if err != nil {
			return fmt.Errorf("reading the filestore: %w", err)
		}
		defer func() { _ = f.Close() }()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if err := fn(filepath.ToSlash(rel), fi, f); err != nil {
			return fmt.Errorf("filestore file %s: %w", rel, err)
		}
		return nil
	})
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

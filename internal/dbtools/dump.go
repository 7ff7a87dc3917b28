package dbtools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/pgtool"
)

// DumpOptions configure Dump. The connection comes from the process's PG*
// environment, which pg_dump inherits.
type DumpOptions struct {
	// File is the path of the dump to write (custom format). Its checksum
	// goes to ChecksumPath(File).
	File string
	// Database to dump; empty: PGDATABASE. It is passed to pg_dump in its
	// environment, not as an argument.
	Database string
	// PGBinDir is the directory of pg_dump; empty: PATH.
	PGBinDir string
	// Stderr, when set, also receives pg_dump's messages.
	Stderr io.Writer
}

// DumpResult describes a finished dump.
type DumpResult struct {
	File     string
	Size     int64
	SHA256   string
	Duration time.Duration
}

// DumpFileMode is the permission of a dump file: it holds the whole
// database, password hashes included.
const DumpFileMode os.FileMode = 0o640

// Dump runs pg_dump --format=custom --no-owner --no-privileges into
// opts.File, hashing the stream as it is written. The dump is written to a
// temporary file next to File, synced and renamed; only then is the
// checksum file written (again atomically). A crash at any point leaves
// either no dump, or a dump without a checksum that VerifyDump refuses, or
// a complete, verifiable pair. An older checksum at the same path is removed
// before the new dump takes the name, and temporary files an interrupted
// Dump of the same file left are removed at the start.
func Dump(ctx context.Context, opts DumpOptions) (DumpResult, error) {
	res := DumpResult{File: opts.File}
	if opts.File == "" {
		return res, errors.New("dump: no file given")
	}
	bin, err := pgtool.Path(opts.PGBinDir, "pg_dump")
	if err != nil {
		return res, err
	}
	dir, base := filepath.Split(opts.File)
	if dir == "" {
		dir = "."
	}
	// What an interrupted Dump of the same file left (it can be as big as
	// the dump) goes first; Dump takes itself for the only writer of File.
	for _, b := range []string{base, filepath.Base(ChecksumPath(base))} {
		if err := removePartials(dir, b); err != nil {
			return res, fmt.Errorf("dump: removing leftovers: %w", err)
		}
	}
	tmp, err := os.CreateTemp(dir, partialPrefix(base)+"*")
	if err != nil {
		return res, fmt.Errorf("dump: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	args := []string{"--format=custom", "--no-owner", "--no-privileges"}
	var env []string
	if opts.Database != "" {
		env = append(env, "PGDATABASE="+opts.Database)
	}
	cmd, tail := pgtool.Command(ctx, bin, args, env, opts.Stderr)
	hash := sha256.New()
	size := &countingWriter{}
	cmd.Stdout = io.MultiWriter(tmp, hash, size)

	start := time.Now()
	if err := cmd.Run(); err != nil {
		return res, pgtool.Error(ctx, "pg_dump", err, tail)
	}
	if size.n == 0 {
		return res, errors.New("pg_dump wrote nothing")
	}
	if err := tmp.Chmod(DumpFileMode); err != nil {
		return res, fmt.Errorf("dump: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return res, fmt.Errorf("dump: syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("dump: %w", err)
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	sumPath := ChecksumPath(opts.File)
	if err := removeIfExists(sumPath); err != nil {
		return res, fmt.Errorf("dump: removing the old checksum: %w", err)
	}
	if err := os.Rename(tmp.Name(), opts.File); err != nil {
		return res, fmt.Errorf("dump: %w", err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return res, fmt.Errorf("dump: %w", err)
	}
	if err := writeFileAtomic(sumPath, []byte(checksumLine(sum, base)), 0o644); err != nil {
		return res, fmt.Errorf("dump: writing the checksum: %w", err)
	}
	res.Size, res.SHA256, res.Duration = size.n, sum, time.Since(start)
	return res, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

package odoozip

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/pgtool"
)

// DumpOptions configure WriteDump. The connection comes from the process's
// PG* environment, which pg_dump inherits.
type DumpOptions struct {
	// Database to dump; empty: PGDATABASE.
	Database string
	// PGBinDir is the directory of pg_dump; empty: PATH.
	PGBinDir string
	// Stderr, when set, also receives pg_dump's messages.
	Stderr io.Writer
}

// WriteDump streams the database to w as Odoo's "dump" backup format:
// pg_dump --format=custom --no-owner --no-privileges --compress=1 (the
// fastest level, as for the zip: the default level 6 halves pg_dump's
// throughput for a few percent of size), which dbtools.Restore
// (pg_restore) loads. It returns the dump's size and sha256.
func WriteDump(ctx context.Context, w io.Writer, opts DumpOptions) (Result, error) {
	start := time.Now()
	var res Result
	bin, err := pgtool.Path(opts.PGBinDir, "pg_dump")
	if err != nil {
		return res, err
	}
	var env []string
	if opts.Database != "" {
		env = append(env, "PGDATABASE="+opts.Database)
	}
	cmd, tail := pgtool.Command(ctx, bin, []string{"--format=custom", "--no-owner", "--no-privileges", "--compress=1"}, env, opts.Stderr)
	hw := newHashingWriter(w)
	cmd.Stdout = hw
	if err := cmd.Run(); err != nil {
		return res, pgtool.Error(ctx, "pg_dump", err, tail)
	}
	if hw.n == 0 {
		return res, errors.New("pg_dump wrote nothing")
	}
	res.Size, res.SHA256, res.DumpBytes, res.Duration = hw.n, hw.sum(), hw.n, time.Since(start)
	return res, nil
}

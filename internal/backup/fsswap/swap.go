// Package fsswap moves a restored filestore into place: Odoo keeps a
// database's attachments in <data_dir>/filestore/<database>, so once a
// restored database took the live one's name, its filestore must take the
// live one's directory, the previous filestore kept beside it.
package fsswap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Swap renames dir/<live> to dir/<kept>, then dir/<target> to dir/<live>.
// It returns true when the restored filestore is (now or already) in place,
// false when there is none to move (the backup held no filestore): the live
// directory is then left where it is.
//
// Renames within one directory are atomic, so a run stopped at any point
// leaves one of the states below, and running Swap again finishes the work
// from it; a state it cannot explain is refused without moving anything, so
// a directory is never lost:
//
//   - target, no kept: move live aside (or make an empty kept directory
//     when there is no live one), then target in;
//   - target and kept, no live: the first rename happened, move target in;
//   - kept and live, no target: done;
//   - neither target nor kept: nothing to move;
//   - anything else is an error naming what was found.
//
// kept must be unique to the restore, so that it cannot be left over from
// an earlier one.
func Swap(dir, live, target, kept string) (bool, error) {
	for _, n := range []string{live, target, kept} {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) {
			return false, fmt.Errorf("swap-filestore: %q is not a database directory name", n)
		}
	}
	if live == target || live == kept || target == kept {
		return false, fmt.Errorf("swap-filestore: the live (%q), restored (%q) and kept (%q) names must differ", live, target, kept)
	}
	hasLive, err := isDir(dir, live)
	if err != nil {
		return false, err
	}
	hasTarget, err := isDir(dir, target)
	if err != nil {
		return false, err
	}
	hasKept, err := isDir(dir, kept)
	if err != nil {
		return false, err
	}
	switch {
	case hasTarget && !hasKept:
		// With no live directory an empty kept one stands in for it, so
		// that a second run still sees the move as done.
		step := func() error { return rename(dir, live, kept) }
		if !hasLive {
			step = func() error { return mkdir(dir, kept) }
		}
		if err := step(); err != nil {
			return false, err
		}
		return true, rename(dir, target, live)
	case hasTarget && hasKept && !hasLive:
		return true, rename(dir, target, live)
	case !hasTarget && hasKept && hasLive:
		return true, nil
	case !hasTarget && !hasKept:
		return false, nil
	}
	return false, fmt.Errorf("swap-filestore: cannot continue from this state in %s: live %q %s, restored %q %s, kept %q %s; nothing was moved",
		dir, live, existence(hasLive), target, existence(hasTarget), kept, existence(hasKept))
}

// isDir reports whether dir/name exists; anything there but a directory is
// an error.
func isDir(dir, name string) (bool, error) {
	fi, err := os.Lstat(filepath.Join(dir, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("swap-filestore: %w", err)
	case !fi.IsDir():
		return false, fmt.Errorf("swap-filestore: %s is not a directory", filepath.Join(dir, name))
	}
	return true, nil
}

// mkdir makes the empty directory dir/name and syncs dir.
func mkdir(dir, name string) error {
	if err := os.Mkdir(filepath.Join(dir, name), 0o750); err != nil {
		return fmt.Errorf("swap-filestore: %w", err)
	}
	return syncDir(dir)
}

// rename renames dir/from to dir/to and syncs dir, so the rename survives a
// crash of the node before the next step is recorded.
func rename(dir, from, to string) error {
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		return fmt.Errorf("swap-filestore: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes the changes to dir's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the filestore directory the Job names
	if err != nil {
		return fmt.Errorf("swap-filestore: %w", err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("swap-filestore: syncing %s: %w", dir, err)
	}
	return d.Close()
}

func existence(ok bool) string {
	if ok {
		return "exists"
	}
	return "missing"
}

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/odoo-operator/odoo-operator/internal/ctxio"
)

// Dir is a Store in a directory, such as a mounted PVC: object key k is the
// file root/k.
type Dir struct {
	root string
}

// FileMode is the permission of a stored file: a backup holds the whole
// database, password hashes included.
const FileMode os.FileMode = 0o640

// partialMarker is in the names of the temporary files of unfinished Puts;
// List leaves them out.
const partialMarker = ".partial-"

// NewDir returns the store rooted at root. The directory is created by the
// first Put, not here, so that reading from a mistyped path creates
// nothing.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("directory store: no directory given")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Dir{root: abs}, nil
}

// Root is the directory of the store.
func (d *Dir) Root() string { return d.root }

func (d *Dir) String() string { return "directory " + d.root }

// Path is the file of key.
func (d *Dir) Path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes r to a temporary file beside the object's file, syncs it and
// renames it into place, then syncs the directory.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	path, err := d.Path(key)
	if err != nil {
		return 0, err
	}
	dir, base := filepath.Split(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, "."+base+partialMarker+"*")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxio.Reader(ctx, r))
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", key, err)
	}
	if err := tmp.Chmod(FileMode); err != nil {
		return n, err
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("syncing %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, err
	}
	done = true
	return n, syncDir(dir)
}

// Get opens the object's file.
func (d *Dir) Get(_ context.Context, key string) (io.ReadCloser, error) {
	path, err := d.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path) //nolint:gosec // a validated key under the store's root
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, key, d)
	}
	return f, err
}

// Stat describes the object's file.
func (d *Dir) Stat(_ context.Context, key string) (Object, error) {
	path, err := d.Path(key)
	if err != nil {
		return Object{}, err
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return Object{}, fmt.Errorf("%w: %s in %s", ErrNotFound, key, d)
	}
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: fi.Size(), LastModified: fi.ModTime()}, nil
}

// List walks the directory for regular files whose keys start with prefix,
// leaving out the temporary files of unfinished Puts.
func (d *Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(d.root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if path == d.root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll // no directory yet: no objects
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			// Skip directories that cannot hold a key with the prefix.
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || strings.Contains(e.Name(), partialMarker) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: fi.Size(), LastModified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object's file.
func (d *Dir) Delete(_ context.Context, key string) error {
	path, err := d.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	f, err := os.Open(dir) //nolint:gosec // a directory of the store
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return f.Sync()
}

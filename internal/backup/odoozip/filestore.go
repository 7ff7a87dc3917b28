package odoozip

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/ctxio"
)

// File modes of a restored filestore: it holds the attachments of the
// database, so it is private to its owner and group (the Odoo user).
const (
	FilestoreFileMode os.FileMode = 0o640
	FilestoreDirMode  os.FileMode = 0o750
)

// WriteFilestoreTar streams the files under dir to w as an uncompressed tar
// (filestore contents, mostly images and PDFs, barely compress), named
// filestore/<path> as in Odoo's zip, and returns its size and sha256.
func WriteFilestoreTar(ctx context.Context, w io.Writer, dir string) (Result, error) {
	start := time.Now()
	var res Result
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return res, fmt.Errorf("filestore directory %s: %w", dir, orNotDir(err))
	}
	hw := newHashingWriter(w)
	tw := tar.NewWriter(hw)
	err := walkFilestore(ctx, dir, func(rel string, fi fs.FileInfo, f *os.File) error {
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = FilestoreName+"/"+rel, "", "", 0, 0
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.Copy(tw, f)
		res.FilestoreFiles++
		res.FilestoreBytes += n
		return err
	})
	if err != nil {
		return res, err
	}
	if err := tw.Close(); err != nil {
		return res, err
	}
	res.Size, res.SHA256, res.Duration = hw.n, hw.sum(), time.Since(start)
	return res, nil
}

// StagedFilestore is a filestore extracted into a temporary directory
// beside its destination, waiting for the database restore to succeed:
// Commit moves it into place, Discard removes it.
type StagedFilestore struct {
	dest, tmp string
	Files     int
	Bytes     int64
}

// newStage checks that dest is absent or an empty directory and makes the
// temporary directory beside it.
func newStage(dest string) (*StagedFilestore, error) {
	if dest == "" {
		return nil, errors.New("no filestore directory given")
	}
	dest = filepath.Clean(dest)
	if err := checkEmptyDir(dest); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, FilestoreDirMode); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := os.Chmod(tmp, FilestoreDirMode); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	return &StagedFilestore{dest: dest, tmp: tmp}, nil
}

// checkEmptyDir refuses a destination that holds anything: a restore never
// mixes two filestores.
func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("filestore directory %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("filestore directory %s is not empty (%s, ...): restore only into a new or empty directory", dir, entries[0].Name())
	}
	return nil
}

// add writes one file of the filestore, rel being its path under
// filestore/ (already checked by SafeName).
func (s *StagedFilestore) add(ctx context.Context, rel string, r io.Reader) error {
	p := filepath.Join(s.tmp, filepath.FromSlash(rel))
	if !strings.HasPrefix(p, s.tmp+string(filepath.Separator)) {
		return fmt.Errorf("%w: filestore member %q leaves the filestore", ErrInvalid, rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), FilestoreDirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FilestoreFileMode) //nolint:gosec // a checked path under the staging directory
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	n, err := io.Copy(f, ctxio.Reader(ctx, r))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("filestore file %s: %w", rel, err)
	}
	s.Files++
	s.Bytes += n
	return nil
}

func (s *StagedFilestore) mkdir(rel string) error {
	return os.MkdirAll(filepath.Join(s.tmp, filepath.FromSlash(rel)), FilestoreDirMode)
}

// Commit moves the staged files to the destination, which must still be
// absent or empty. When the destination is an empty directory that cannot
// be replaced (a mount point), the staged entries are moved into it.
func (s *StagedFilestore) Commit() error {
	if err := checkEmptyDir(s.dest); err != nil {
		return err
	}
	if err := os.Remove(s.dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(s.tmp)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.Rename(filepath.Join(s.tmp, e.Name()), filepath.Join(s.dest, e.Name())); err != nil {
				return fmt.Errorf("moving the filestore into place: %w", err)
			}
		}
		return os.Remove(s.tmp)
	}
	if err := os.Rename(s.tmp, s.dest); err != nil {
		return fmt.Errorf("moving the filestore into place: %w", err)
	}
	return nil
}

// Discard removes the staged files.
func (s *StagedFilestore) Discard() {
	if s != nil {
		_ = os.RemoveAll(s.tmp)
	}
}

// Dir is the temporary directory holding the staged files.
func (s *StagedFilestore) Dir() string { return s.tmp }

// StageFilestoreTar checks a filestore tar written by WriteFilestoreTar
// against its sha256 (hex), then extracts it beside dest, which must be
// absent or empty. Names are checked as in a zip: no absolute path, no
// "..", no link or device.
func StageFilestoreTar(ctx context.Context, file, sha256Hex, dest string) (*StagedFilestore, error) {
	if _, err := VerifySHA256(ctx, file, sha256Hex); err != nil {
		return nil, err
	}
	s, err := newStage(dest)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Discard()
		}
	}()
	f, err := os.Open(file) //nolint:gosec // the backup the caller names
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if err := checkTarEnd(f); err != nil {
		return nil, fmt.Errorf("%w: filestore archive %s: %w", ErrInvalid, filepath.Base(file), err)
	}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: filestore archive %s: %w", ErrInvalid, filepath.Base(file), err)
		}
		if err := SafeName(hdr.Name); err != nil {
			return nil, fmt.Errorf("%w: filestore archive: %w", ErrInvalid, err)
		}
		rel, found := strings.CutPrefix(strings.TrimSuffix(hdr.Name, "/"), FilestoreName+"/")
		if !found {
			return nil, fmt.Errorf("%w: filestore archive: member %q is not under %s/", ErrInvalid, hdr.Name, FilestoreName)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			if err := s.add(ctx, rel, tr); err != nil {
				return nil, err
			}
		case tar.TypeDir:
			if err := s.mkdir(rel); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: filestore archive: member %q is not a regular file", ErrInvalid, hdr.Name)
		}
	}
	ok = true
	return s, nil
}

// checkTarEnd checks that the tar ends with its end-of-archive marker (two
// zero blocks), which a reader takes for granted when a truncated archive
// happens to end between members; it rewinds f.
func checkTarEnd(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	const marker = 2 * 512
	if fi.Size() < marker || fi.Size()%512 != 0 {
		return fmt.Errorf("truncated: %d bytes is not a whole number of tar blocks", fi.Size())
	}
	end := make([]byte, marker)
	if _, err := f.ReadAt(end, fi.Size()-marker); err != nil {
		return err
	}
	for _, b := range end {
		if b != 0 {
			return errors.New("truncated: no end-of-archive marker")
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

package odoozip

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// SpaceReserve is what a restore leaves free on the filestore's volume
// beyond the archive's declared filestore size.
const SpaceReserve = 64 << 20

// ErrNoSpace is returned for an archive whose declared filestore does not
// fit on the filestore's volume: nothing was written.
var ErrNoSpace = errors.New("not enough free space")

// filestoreDeclaredSize sums the uncompressed sizes the zip declares for
// its filestore/ members.
func filestoreDeclaredSize(file string) (uint64, error) {
	st, err := os.Stat(file)
	if err != nil {
		return 0, err
	}
	zr, closeZip, err := openZip(file, st.Size())
	if err != nil {
		return 0, err
	}
	defer closeZip()
	var total uint64
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, FilestoreName+"/") {
			if total+f.UncompressedSize64 < total {
				return 0, fmt.Errorf("%w: the declared filestore size overflows", ErrInvalid)
			}
			total += f.UncompressedSize64
		}
	}
	return total, nil
}

// freeSpace is the space an unprivileged process may still use on the
// volume of dir, or of its nearest existing parent.
func freeSpace(dir string) (uint64, error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // Bsize is positive
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, syscall.ENOENT) || parent == dir {
			return 0, fmt.Errorf("free space of %s: %w", dir, err)
		}
		dir = parent
	}
}

// CheckFits refuses a filestore of need bytes for a volume with free bytes
// free, keeping SpaceReserve: a zip bomb is refused before anything is
// extracted.
func CheckFits(need, free uint64) error {
	if need > free || free-need < SpaceReserve {
		return fmt.Errorf("%w: the backup's filestore declares %s uncompressed, but the filestore volume has %s free (a restore keeps %s free): "+
			"grow the filestore claim or free space, then retry; nothing was written", ErrNoSpace, humanBytes(need), humanBytes(free), humanBytes(SpaceReserve))
	}
	return nil
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// declaredSize is the member's declared uncompressed size as an int64.
func declaredSize(f *zip.File) int64 {
	if f.UncompressedSize64 > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f.UncompressedSize64)
}

// exactReader fails once r yields more than n bytes: a member is never
// trusted to be the size it declares (archive/zip checks this too).
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	k, err := e.r.Read(p)
	e.n -= int64(k)
	if e.n < 0 {
		return 0, fmt.Errorf("%w: a member is larger than it declares", ErrInvalid)
	}
	return k, err
}

package odoozip

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	kflate "github.com/klauspost/compress/flate"

	"github.com/odoo-operator/odoo-operator/internal/ctxio"
)

// ErrInvalid is returned (wrapped) for an archive that fails verification:
// a wrong sha256 (truncated or corrupt), an unreadable zip, a bad CRC, an
// unsafe or unexpected layout, or a bad manifest.
var ErrInvalid = errors.New("backup failed verification")

// MaxManifestSize bounds manifest.json.
const MaxManifestSize = 64 << 20

// Info describes a verified zip.
type Info struct {
	Size     int64
	SHA256   string
	Manifest Manifest
	// DumpBytes is the size of dump.sql, uncompressed.
	DumpBytes int64
	// FilestoreFiles and FilestoreBytes count the files under filestore/.
	FilestoreFiles int
	FilestoreBytes int64
	// Ignored names the members that are neither dump.sql, manifest.json nor
	// under filestore/: a restore leaves them out, as Odoo does.
	Ignored []string
}

// VerifySHA256 hashes the file and compares with want (hex). A mismatch is
// an ErrInvalid that says the file is truncated or corrupt.
func VerifySHA256(ctx context.Context, file, want string) (size int64, err error) {
	if want == "" {
		return 0, fmt.Errorf("%w: no sha256 to check %s against", ErrInvalid, file)
	}
	f, err := os.Open(file) //nolint:gosec // the backup the caller names
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	n, err := io.Copy(h, ctxio.Reader(ctx, f))
	if err != nil {
		return n, fmt.Errorf("reading %s: %w", file, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return n, fmt.Errorf("%w: %s (%d bytes) has sha256 %s, but its checksum file records %s: the backup is truncated or corrupt",
			ErrInvalid, path.Base(file), n, got, strings.ToLower(want))
	}
	return n, nil
}

// Verify checks a zip from end to end without touching any database: its
// sha256 against want (hex; required), that it opens as a zip, that every
// member's name is safe (relative, no "..", no backslash, no link), that
// dump.sql and manifest.json are there once, that the manifest is Odoo's,
// and that every member decompresses to its recorded size and CRC-32.
func Verify(ctx context.Context, file, want string) (Info, error) {
	var info Info
	size, err := VerifySHA256(ctx, file, want)
	if err != nil {
		return info, err
	}
	info.Size, info.SHA256 = size, strings.ToLower(want)
	zr, closeZip, err := openZip(file, size)
	if err != nil {
		return info, err
	}
	defer closeZip()
	seen := map[string]bool{}
	var dump, manifest *zip.File
	for _, f := range zr.File {
		if err := checkMember(f); err != nil {
			return info, err
		}
		name := strings.TrimSuffix(f.Name, "/")
		if seen[name] {
			return info, fmt.Errorf("%w: member %q appears twice", ErrInvalid, f.Name)
		}
		seen[name] = true
		switch {
		case f.Name == DumpName:
			dump = f
			info.DumpBytes = int64(f.UncompressedSize64) //nolint:gosec // a size read from the archive, checked below
		case f.Name == ManifestName:
			manifest = f
		case strings.HasPrefix(f.Name, FilestoreName+"/"):
			if !f.FileInfo().IsDir() {
				info.FilestoreFiles++
				info.FilestoreBytes += int64(f.UncompressedSize64) //nolint:gosec // as above
			}
		default:
			info.Ignored = append(info.Ignored, f.Name)
		}
	}
	if dump == nil || manifest == nil {
		return info, fmt.Errorf("%w: not an Odoo backup: %s or %s is missing", ErrInvalid, DumpName, ManifestName)
	}
	if manifest.UncompressedSize64 > MaxManifestSize {
		return info, fmt.Errorf("%w: manifest.json is %d bytes", ErrInvalid, manifest.UncompressedSize64)
	}
	b, err := readMember(manifest)
	if err != nil {
		return info, err
	}
	if info.Manifest, err = ParseManifest(b); err != nil {
		return info, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return info, fmt.Errorf("%w: member %s: %w", ErrInvalid, f.Name, err)
		}
		// The zip reader stops at the recorded size, and nothing is kept.
		_, err = io.Copy(io.Discard, rc) //nolint:gosec // G110: read to check the CRC, not kept
		_ = rc.Close()
		if err != nil {
			return info, fmt.Errorf("%w: member %s is corrupt: %w", ErrInvalid, f.Name, err)
		}
	}
	return info, nil
}

// openZip opens the zip with a fast inflater.
func openZip(file string, size int64) (*zip.Reader, func(), error) {
	f, err := os.Open(file) //nolint:gosec // the backup the caller names
	if err != nil {
		return nil, nil, err
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%w: %s is not a readable zip archive: %w", ErrInvalid, path.Base(file), err)
	}
	zr.RegisterDecompressor(zip.Deflate, kflate.NewReader)
	return zr, func() { _ = f.Close() }, nil
}

func readMember(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %w", ErrInvalid, f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: member %s is corrupt: %w", ErrInvalid, f.Name, err)
	}
	return b, nil
}

// checkMember refuses names that could write outside the target directory
// and entries that are neither files nor directories.
func checkMember(f *zip.File) error {
	if err := SafeName(f.Name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	mode := f.Mode()
	if !mode.IsRegular() && !mode.IsDir() {
		return fmt.Errorf("%w: member %q is a %v, not a file", ErrInvalid, f.Name, mode.Type())
	}
	if mode.IsDir() != strings.HasSuffix(f.Name, "/") {
		return fmt.Errorf("%w: member %q: its name and its type disagree", ErrInvalid, f.Name)
	}
	return nil
}

// SafeName checks an archive member's name: relative, '/'-separated,
// without "." or ".." segments, empty segments (but a directory's trailing
// '/'), backslashes or control characters.
func SafeName(name string) error {
	trimmed := strings.TrimSuffix(name, "/")
	if trimmed == "" {
		return fmt.Errorf("member with an empty name")
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || (len(name) > 1 && name[1] == ':') {
		return fmt.Errorf("member %q: absolute or Windows path", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("member %q: control character in the name", name)
		}
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("member %q: path traversal or empty segment", name)
		}
	}
	return nil
}

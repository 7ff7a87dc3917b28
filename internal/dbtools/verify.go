package dbtools

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/odoo-operator/odoo-operator/internal/ctxio"
)

// ErrDumpInvalid is returned when a dump fails verification: no checksum
// file, a checksum that does not match (truncated or corrupt file), or an
// archive pg_restore cannot read.
var ErrDumpInvalid = errors.New("dump failed verification")

// ChecksumPath is the checksum file of a dump: file + ".sha256", in the
// format of sha256sum ("<hex>  <name>"), so `sha256sum -c` checks it too.
func ChecksumPath(file string) string { return file + ".sha256" }

// VerifyDump checks a dump against its checksum file and returns its
// sha256. It reads the whole file.
func VerifyDump(ctx context.Context, file string) (string, error) {
	want, err := readChecksum(ChecksumPath(file))
	if err != nil {
		return "", err
	}
	f, err := os.Open(file) //nolint:gosec // the dump the caller names
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDumpInvalid, err)
	}
	defer func() { _ = f.Close() }()
	hash := sha256.New()
	n, err := io.Copy(hash, ctxio.Reader(ctx, f))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", file, err)
	}
	got := hex.EncodeToString(hash.Sum(nil))
	if got != want {
		return "", fmt.Errorf("%w: %s (%d bytes) has sha256 %s but %s records %s: the dump is truncated or corrupt",
			ErrDumpInvalid, file, n, got, filepath.Base(ChecksumPath(file)), want)
	}
	return got, nil
}

// readChecksum reads the hex sha256 from the first line of a checksum file.
func readChecksum(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // the checksum file next to the dump
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no checksum file %s: the dump is incomplete or was not written by Dump", ErrDumpInvalid, path)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDumpInvalid, err)
	}
	defer func() { _ = f.Close() }()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%w: reading %s: %w", ErrDumpInvalid, path, err)
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	sum = strings.ToLower(sum)
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w: %s holds no sha256 checksum", ErrDumpInvalid, path)
	}
	return sum, nil
}

// Package objectstore stores backups: in an S3-compatible bucket (S3) or
// in a directory, such as a mounted PVC (Dir), behind one small interface.
//
// Keys are '/'-separated paths relative to the store's root (a bucket
// prefix, or a directory). An object appears whole or not at all: S3 makes
// an upload visible when it completes, and Dir writes a temporary file that
// it renames into place.
package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) by Get and Stat for a key that holds no
// object.
var ErrNotFound = errors.New("object not found")

// Object describes a stored object.
type Object struct {
	// Key is relative to the store's root.
	Key          string
	Size         int64
	LastModified time.Time
}

// Store is a place that keeps backups.
type Store interface {
	// Put streams r into the object key, replacing any object there, and
	// returns the number of bytes stored. The size need not be known in
	// advance. When r fails or ctx ends, no object (or the previous one)
	// is left at key.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get opens the object key for reading; the caller closes it. A
	// missing object gives an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object key; a missing one gives ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// List returns the objects whose keys start with prefix (at any depth),
	// sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes the object key. A missing object is no error.
	Delete(ctx context.Context, key string) error
	// String names the store for logs, without credentials.
	String() string
}

// MaxKeyLen bounds a key's length in bytes (S3 allows 1024 for the whole
// name, prefix included).
const MaxKeyLen = 900

// ValidateKey checks that key is a plain relative path: not empty, no
// empty, "." or ".." segment, no leading or trailing '/', no backslash, no
// control character.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("empty object key")
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("object key of %d bytes: at most %d", len(key), MaxKeyLen)
	}
	if strings.ContainsAny(key, `\`) {
		return fmt.Errorf("object key %q: no backslash allowed", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("object key %q: no control character allowed", key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("object key %q: empty path segment (leading, trailing or double '/')", key)
		case ".", "..":
			return fmt.Errorf("object key %q: no '.' or '..' segment allowed", key)
		}
	}
	return nil
}

// ChecksumKey is the key of the sha256 file stored beside a backup.
func ChecksumKey(key string) string { return key + ".sha256" }

// ChecksumLine is the content of a checksum file, in sha256sum's format
// ("<hex>  <name>\n"), so that `sha256sum -c` checks a downloaded pair.
func ChecksumLine(sha256Hex, key string) string {
	return sha256Hex + "  " + key[strings.LastIndex(key, "/")+1:] + "\n"
}

// ParseChecksum reads the hex sha256 at the start of a checksum file.
func ParseChecksum(b []byte) (string, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	sum, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	sum = strings.ToLower(sum)
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", errors.New("no sha256 checksum in the checksum file")
	}
	return sum, nil
}

// ReadChecksum reads the checksum file beside key.
func ReadChecksum(ctx context.Context, s Store, key string) (string, error) {
	sum, _, err := ReadChecksumRun(ctx, s, key)
	return sum, err
}

// runIDPrefix starts the line of a checksum file that names the run which
// wrote the backup; sha256sum -c skips it as a comment.
const runIDPrefix = "# run-id: "

// ParseRunID reads the run id recorded in a checksum file ("" when none).
func ParseRunID(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), runIDPrefix); ok {
			return strings.TrimSpace(id)
		}
	}
	return ""
}

// ReadChecksumRun reads the checksum file beside key: the sha256, and the
// run id of the writer when it recorded one.
func ReadChecksumRun(ctx context.Context, s Store, key string) (sum, runID string, err error) {
	r, err := s.Get(ctx, ChecksumKey(key))
	if err != nil {
		return "", "", err
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", ChecksumKey(key), err)
	}
	sum, err = ParseChecksum(b)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", ChecksumKey(key), err)
	}
	return sum, ParseRunID(b), nil
}

// WriteChecksum stores the checksum file beside key.
func WriteChecksum(ctx context.Context, s Store, key, sha256Hex string) error {
	return WriteChecksumRun(ctx, s, key, sha256Hex, "")
}

// WriteChecksumRun stores the checksum file beside key, naming the run
// that wrote the backup when runID is not empty: a later run can tell a
// backup it wrote itself from one it finds there.
func WriteChecksumRun(ctx context.Context, s Store, key, sha256Hex, runID string) error {
	content := ChecksumLine(sha256Hex, key)
	if runID = singleLineID(runID); runID != "" {
		content += runIDPrefix + runID + "\n"
	}
	_, err := s.Put(ctx, ChecksumKey(key), strings.NewReader(content))
	return err
}

// singleLineID keeps a run id on its line.
func singleLineID(id string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(id))
}

// PutWriter stores what write writes as the object key, streaming it
// through a pipe: write runs in its own goroutine while Put reads. When
// write fails, the upload is abandoned (no object is left) and write's
// error is returned; when Put fails, write's next Write fails with Put's
// error, which the error returned carries.
func PutWriter(ctx context.Context, s Store, key string, write func(w io.Writer) error) (int64, error) {
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		err := write(pw)
		if err == nil {
			_ = pw.Close()
		} else {
			_ = pw.CloseWithError(err)
		}
		werr <- err
	}()
	n, perr := s.Put(ctx, key, pr)
	// Unblock a writer that Put stopped reading. When the upload failed,
	// the writer's error then carries why (the store unreachable, ...),
	// rather than only that its writes stopped.
	stopped := perr
	if stopped == nil {
		stopped = errors.New("upload stopped")
	}
	_ = pr.CloseWithError(stopped)
	if err := <-werr; err != nil {
		return n, err
	}
	return n, perr
}

package objectstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
)

// PartialRemover is a Store that can remove what an unfinished Put of a key
// left behind when its process was killed: the parts of an S3 multipart
// upload, the temporary file of a directory. Both are invisible to Get,
// Stat and List, yet take space.
type PartialRemover interface {
	// RemovePartial removes the remains of unfinished Puts of key and
	// returns how many it removed. Never call it while a Put of key runs.
	RemovePartial(ctx context.Context, key string) (int, error)
}

// RemovePartial removes the temporary files .<name>.partial-* of key.
func (d *Dir) RemovePartial(_ context.Context, key string) (int, error) {
	path, err := d.Path(key)
	if err != nil {
		return 0, err
	}
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "."+base+partialMarker) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, syncDir(dir)
	}
	return 0, nil
}

// RemovePartial aborts the incomplete multipart uploads of key.
func (s *S3) RemovePartial(ctx context.Context, key string) (int, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	var ids []string
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, name, false) {
		if u.Err != nil {
			return 0, s.wrap(ctx, "listing the unfinished uploads of", key, u.Err)
		}
		if u.Key == name {
			ids = append(ids, u.UploadID)
		}
	}
	core := minio.Core{Client: s.client}
	for i, id := range ids {
		if err := core.AbortMultipartUpload(ctx, s.cfg.Bucket, name, id); err != nil {
			return i, s.wrap(ctx, "aborting an unfinished upload of", key, err)
		}
	}
	return len(ids), nil
}

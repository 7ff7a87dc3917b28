package objectstore

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Location is where one backup goes or comes from, as a URL:
// s3://BUCKET/PREFIX/NAME or file:///DIR/NAME.
type Location struct {
	// Scheme is "s3" or "file".
	Scheme string
	// Bucket is the S3 bucket; empty for s3:///PREFIX/NAME, which takes it
	// from S3_BUCKET.
	Bucket string
	// Dir is the S3 prefix or the directory, without a trailing '/'.
	Dir string
	// Name is the backup's key in the store of Dir.
	Name string
}

func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + path.Join(l.Dir, l.Name)
	}
	return "s3://" + l.Bucket + "/" + strings.TrimPrefix(path.Join(l.Dir, l.Name), "/")
}

// ParseLocation parses s3://BUCKET/PREFIX/NAME or file:///DIR/NAME (an
// absolute path). NAME must be a plain file name.
func ParseLocation(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("backup location %q: %w", raw, err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Location{}, fmt.Errorf("backup location %q: no query, fragment or user allowed", raw)
	}
	var l Location
	switch u.Scheme {
	case "s3":
		l.Scheme, l.Bucket = "s3", u.Host
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("backup location %q: a file URL names no host: file:///path", raw)
		}
		l.Scheme = "file"
	default:
		return Location{}, fmt.Errorf("backup location %q: want s3://BUCKET/PREFIX/NAME or file:///DIR/NAME", raw)
	}
	p := u.Path
	if l.Scheme == "file" && !strings.HasPrefix(p, "/") {
		return Location{}, fmt.Errorf("backup location %q: want an absolute path", raw)
	}
	if strings.HasSuffix(p, "/") {
		return Location{}, fmt.Errorf("backup location %q: ends with '/': name the backup", raw)
	}
	if l.Scheme == "file" && path.Clean(p) != p {
		return Location{}, fmt.Errorf("backup location %q: the path must be clean (no '.', '..' or '//')", raw)
	}
	dir, name := path.Split(p)
	if l.Scheme == "s3" {
		dir = strings.TrimSuffix(strings.TrimPrefix(dir, "/"), "/")
		if dir != "" {
			if err := ValidateKey(dir); err != nil {
				return Location{}, fmt.Errorf("backup location %q: %w", raw, err)
			}
		}
	} else {
		dir = path.Clean(dir)
	}
	if err := ValidateKey(name); err != nil {
		return Location{}, fmt.Errorf("backup location %q: %w", raw, err)
	}
	l.Dir, l.Name = dir, name
	return l, nil
}

// Open returns the store of the location's directory: for s3, the bucket
// (the URL's, or S3_BUCKET's) with the URL's prefix, and the endpoint,
// region, credentials and options from getenv (see S3ConfigFromEnv); for
// file, the directory.
func Open(l Location, getenv func(string) string) (Store, error) {
	switch l.Scheme {
	case "file":
		return NewDir(l.Dir)
	case "s3":
		cfg, err := S3ConfigFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		switch {
		case l.Bucket == "" && cfg.Bucket == "":
			return nil, fmt.Errorf("%s names no bucket and %s is not set", l, EnvBucket)
		case l.Bucket != "" && cfg.Bucket != "" && l.Bucket != cfg.Bucket:
			return nil, fmt.Errorf("%s names bucket %q but %s is %q", l, l.Bucket, EnvBucket, cfg.Bucket)
		case l.Bucket != "":
			cfg.Bucket = l.Bucket
		}
		cfg.Prefix = l.Dir
		return NewS3(cfg)
	}
	return nil, errors.New("backup location: unknown scheme " + l.Scheme)
}

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates a bucket of an S3-compatible service.
type S3Config struct {
	// Endpoint is host[:port], or a URL http(s)://host[:port] whose scheme
	// then decides Insecure. Empty: AWS S3 (s3.amazonaws.com).
	Endpoint string
	Bucket   string
	// Prefix is prepended to every key ("backups/prod" and "backups/prod/"
	// are the same prefix).
	Prefix string
	// Region; empty lets the client find it out.
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Insecure talks plain HTTP instead of HTTPS.
	Insecure bool
	// PartSize is the size of an upload's parts when its size is not known
	// in advance (DefaultPartSize when zero). S3 allows 10,000 parts, so it
	// bounds the size of an object: 32 MiB parts allow 312 GiB.
	PartSize uint64
	// Concurrency is how many parts are uploaded at once (DefaultConcurrency
	// when zero); memory use is about PartSize × Concurrency.
	Concurrency uint
}

// Defaults of S3Config.
const (
	DefaultPartSize    = 32 << 20
	DefaultConcurrency = 4
)

// Environment variables read by S3ConfigFromEnv.
const (
	EnvEndpoint    = "S3_ENDPOINT"
	EnvBucket      = "S3_BUCKET"
	EnvRegion      = "S3_REGION"
	EnvInsecure    = "S3_INSECURE"
	EnvAccessKey   = "AWS_ACCESS_KEY_ID"
	EnvSecretKey   = "AWS_SECRET_ACCESS_KEY"
	EnvPartSizeMiB = "S3_PART_SIZE_MB"
)

// S3ConfigFromEnv reads S3_ENDPOINT, S3_BUCKET, S3_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_INSECURE (true for plain
// HTTP) and S3_PART_SIZE_MB through getenv (os.Getenv when nil).
func S3ConfigFromEnv(getenv func(string) string) (S3Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := S3Config{
		Endpoint:        getenv(EnvEndpoint),
		Bucket:          getenv(EnvBucket),
		Region:          getenv(EnvRegion),
		AccessKeyID:     getenv(EnvAccessKey),
		SecretAccessKey: getenv(EnvSecretKey),
	}
	if v := getenv(EnvInsecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want true or false", EnvInsecure, v)
		}
		c.Insecure = b
	}
	if v := getenv(EnvPartSizeMiB); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 5 || n > 5<<10 {
			return c, fmt.Errorf("%s=%q: want a number of MiB from 5 to 5120", EnvPartSizeMiB, v)
		}
		c.PartSize = n << 20
	}
	return c, nil
}

// String describes the bucket for logs; it never shows the secret key.
func (c S3Config) String() string {
	scheme := "https"
	if c.Insecure {
		scheme = "http"
	}
	ep := c.Endpoint
	if ep == "" {
		ep = "s3.amazonaws.com"
	}
	if i := strings.Index(ep, "://"); i >= 0 {
		ep = ep[i+3:]
	}
	return fmt.Sprintf("s3 bucket %q prefix %q at %s://%s", c.Bucket, normPrefix(c.Prefix), scheme, ep)
}

func normPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// S3 is a Store in a bucket of an S3-compatible service.
type S3 struct {
	cfg    S3Config
	prefix string
	client *minio.Client
}

// NewS3 checks cfg and makes a client; it does not contact the service.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("s3: no bucket given (%s)", EnvBucket)
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, fmt.Errorf("s3: credentials missing: set %s and %s", EnvAccessKey, EnvSecretKey)
	}
	host := cfg.Endpoint
	if host == "" {
		host = "s3.amazonaws.com"
	}
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("s3: endpoint %q: want host[:port] or http(s)://host[:port]", cfg.Endpoint)
		}
		switch u.Scheme {
		case "http":
			cfg.Insecure = true
		case "https":
			cfg.Insecure = false
		default:
			return nil, fmt.Errorf("s3: endpoint %q: scheme must be http or https", cfg.Endpoint)
		}
		host = u.Host
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	client, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &S3{cfg: cfg, prefix: normPrefix(cfg.Prefix), client: client}, nil
}

func (s *S3) String() string { return s.cfg.String() }

// Client is the underlying minio client.
func (s *S3) Client() *minio.Client { return s.client }

func (s *S3) name(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Put uploads r as a multipart upload of PartSize parts, Concurrency at a
// time (one plain PUT when r is shorter than a part). A failed upload is
// aborted, so nothing is left at key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, name, r, -1, minio.PutObjectOptions{
		ContentType:           "application/octet-stream",
		PartSize:              s.cfg.PartSize,
		NumThreads:            s.cfg.Concurrency,
		ConcurrentStreamParts: s.cfg.Concurrency > 1,
	})
	if err != nil {
		return 0, s.wrap(ctx, "uploading", key, err)
	}
	return info.Size, nil
}

// Get opens the object for reading.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap(ctx, "downloading", key, err)
	}
	// GetObject is lazy: Stat makes the request, so that a missing object
	// is an error here rather than at the first Read.
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		return nil, s.wrap(ctx, "downloading", key, err)
	}
	return obj, nil
}

// Stat describes the object.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	name, err := s.name(key)
	if err != nil {
		return Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.wrap(ctx, "reading", key, err)
	}
	return Object{Key: key, Size: info.Size, LastModified: info.LastModified}, nil
}

// List lists the objects under the store's prefix + prefix.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	for info := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, s.wrap(ctx, "listing", prefix, info.Err)
		}
		out = append(out, Object{Key: strings.TrimPrefix(info.Key, s.prefix), Size: info.Size, LastModified: info.LastModified})
	}
	return out, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap(ctx, "deleting", key, err)
	}
	return nil
}

// wrap names the operation, the key and the bucket, and turns a missing
// object into ErrNotFound. A HEAD request's 404 has no body to tell a
// missing object from a missing bucket, so the bucket is then checked.
func (s *S3) wrap(ctx context.Context, op, key string, err error) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code != minio.NoSuchBucket &&
		(resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound) {
		if ok, berr := s.client.BucketExists(ctx, s.cfg.Bucket); berr == nil && !ok {
			return fmt.Errorf("%s %s in %s: the bucket does not exist", op, key, s)
		}
		return fmt.Errorf("%w: %s in %s", ErrNotFound, key, s)
	}
	return fmt.Errorf("%s %s in %s: %w", op, key, s, err)
}

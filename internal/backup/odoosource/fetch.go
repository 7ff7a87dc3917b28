// Package odoosource downloads a backup from a live Odoo's database manager
// (POST /web/database/backup), the way Odoo's own "Backup" button does, so a
// restore can copy a database from a running Odoo that the operator does not
// manage.
package odoosource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/egress"
)

// ErrRefused is returned when the Odoo answered, but not with a backup.
var ErrRefused = errors.New("the source Odoo refused the backup")

// Options says which database to fetch from which Odoo.
type Options struct {
	// URL is the Odoo's base URL (http or https), without credentials.
	URL string
	// Database is the database to back up on the source.
	Database string
	// MasterPassword is the source's admin_passwd. It goes only into the
	// request body, never into an error or a log line.
	MasterPassword string
	// File is where the zip is written; it must not exist.
	File string
	// Egress is what the URL may reach: by default no loopback, private,
	// link-local or cluster address, checked on every connection after DNS
	// resolution, and the master password over https only.
	Egress egress.Policy
	// Client sends the request instead of a client on Egress's guarded
	// transport (whose only timeout is on the response headers: a large
	// backup streams for long); it bypasses Egress's address check. Either
	// way a redirect is followed only to the same scheme, host and port:
	// Go re-sends the body, hence the master password, on a 307 or 308.
	Client *http.Client
}

// Result is the fetched archive.
type Result struct {
	Size   int64
	SHA256 string
}

// BaseURL checks an Odoo base URL: http or https, a host, no credentials,
// query or fragment. It is shared by admission-time checks and the fetch.
func BaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: the scheme must be http or https", raw)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("the URL carries credentials: remove them (the master password comes from its Secret)")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: give the Odoo's base URL, without query or fragment", raw)
	}
	return u, nil
}

// Fetch downloads the database as Odoo's zip (dump.sql, filestore/,
// manifest.json) into opts.File and returns its size and sha256. Odoo
// answers a refused backup (wrong master password, unknown database) with
// its database manager page and status 200, so the body is checked to be a
// zip before it counts.
func Fetch(ctx context.Context, opts Options) (Result, error) {
	u, err := BaseURL(opts.URL)
	if err != nil {
		return Result{}, err
	}
	if err := opts.Egress.CheckURL(opts.URL, true); err != nil {
		return Result{}, fmt.Errorf("%s: %w", redacted(u), err)
	}
	endpoint := u.JoinPath("web", "database", "backup").String()
	form := url.Values{"master_pwd": {opts.MasterPassword}, "name": {opts.Database}, "backup_format": {"zip"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var hc http.Client
	if opts.Client != nil {
		hc = *opts.Client
	} else {
		t := opts.Egress.Transport()
		t.ResponseHeaderTimeout = 10 * time.Minute
		hc.Transport = t
	}
	hc.CheckRedirect = egress.SameOrigin
	resp, err := hc.Do(req)
	if err != nil {
		// The error names the URL only: the password is in the body.
		return Result{}, fmt.Errorf("requesting the backup of %q from %s: %w", opts.Database, endpoint, unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusNotFound {
			hint = " (is the database manager disabled on the source, list_db = False?)"
		}
		return Result{}, fmt.Errorf("%w: %s answered %s%s", ErrRefused, endpoint, resp.Status, hint)
	}
	return save(resp.Body, opts.File, opts.Database, endpoint)
}

// save writes the body to file, refusing anything that does not start like
// a zip.
func save(body io.Reader, file, database, endpoint string) (Result, error) {
	head := make([]byte, 4096)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Result{}, fmt.Errorf("reading the backup from %s: %w", endpoint, err)
	}
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return Result{}, fmt.Errorf("%w: %s sent no zip for database %q: %s", ErrRefused, endpoint, database, pageError(head))
	}
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // the command's own work file
	if err != nil {
		return Result{}, err
	}
	sum := sha256.New()
	w := io.MultiWriter(out, sum)
	size, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), body))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, fmt.Errorf("downloading the backup of %q from %s: %w", database, endpoint, err)
	}
	return Result{Size: size, SHA256: hex.EncodeToString(sum.Sum(nil))}, nil
}

var (
	// Odoo renders the failure into its database manager page as
	// "Database backup error: <reason>".
	pageErrorRe = regexp.MustCompile(`(?s)Database backup error:\s*(.*?)\s*<`)
	tagsRe      = regexp.MustCompile(`(?s)<[^>]*>`)
)

// pageError extracts Odoo's reason from its database manager page.
func pageError(page []byte) string {
	if m := pageErrorRe.FindSubmatch(page); m != nil {
		return "Odoo says: " + clip(html.UnescapeString(string(m[1])), 300) +
			" (wrong master password, or no such database on the source?)"
	}
	text := strings.Join(strings.Fields(html.UnescapeString(tagsRe.ReplaceAllString(string(page), " "))), " ")
	if text == "" {
		return "an empty answer"
	}
	return "it answered: " + clip(text, 200)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// redacted is the URL's scheme and host.
func redacted(u *url.URL) string { return u.Scheme + "://" + u.Host }

// unwrapURLError drops *url.Error's "Post <url>:" prefix, which the caller
// already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

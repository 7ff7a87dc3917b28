package odoosource_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoosource"
	"github.com/odoo-operator/odoo-operator/internal/egress"
)

const password = "s3cr3t-master"

// fakeOdoo answers /web/database/backup the way Odoo's database manager
// does: the zip for the right master password and database, otherwise its
// HTML page with "Database backup error: ..." and status 200.
func fakeOdoo(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/odoo/web/database/backup" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		switch {
		case r.PostForm.Get("backup_format") != "zip":
			t.Errorf("backup_format %q, want zip", r.PostForm.Get("backup_format"))
		case r.PostForm.Get("master_pwd") != password:
			_, _ = w.Write([]byte(`<html><body><div class="alert alert-danger">Database backup error: Access Denied</div></body></html>`))
			return
		case r.PostForm.Get("name") != "prod":
			_, _ = w.Write([]byte(`<html><div>Database backup error: database &quot;nope&quot; does not exist</div></html>`))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream; charset=binary")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func aZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(bytes.Repeat([]byte(`{"odoo_dump": "1"}`), 1000))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// loopbackHTTP lets these tests reach their fake Odoo on loopback over
// plain http, as an administrator would allow it.
var loopbackHTTP = egress.Policy{Allow: []egress.Rule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}}, AllowHTTPCredentials: true}

func TestFetch(t *testing.T) {
	body := aZip(t)
	srv := fakeOdoo(t, body)
	want := sha256.Sum256(body)
	cases := []struct {
		name, url, db, pw string
		wantErr           string
		refused           bool
	}{
		{name: "the zip, with its sha256", url: srv.URL + "/odoo", db: "prod", pw: password},
		{name: "base URL with a trailing slash", url: srv.URL + "/odoo/", db: "prod", pw: password},
		{name: "wrong master password: Odoo's reason, not the password", url: srv.URL + "/odoo", db: "prod", pw: "not-the-Pa55word",
			wantErr: "Odoo says: Access Denied", refused: true},
		{name: "unknown database", url: srv.URL + "/odoo", db: "nope", pw: password,
			wantErr: `Odoo says: database "nope" does not exist`, refused: true},
		{name: "database manager absent", url: srv.URL + "/elsewhere", db: "prod", pw: password,
			wantErr: "404 Not Found (is the database manager disabled on the source, list_db = False?)", refused: true},
		{name: "credentials in the URL are refused", url: "https://admin:pw@odoo.example.com", db: "prod", pw: password,
			wantErr: "the URL carries credentials"},
		{name: "not http", url: "ftp://odoo.example.com", db: "prod", pw: password, wantErr: "the scheme must be http or https"},
		{name: "unreachable", url: "http://127.0.0.1:1", db: "prod", pw: password, wantErr: "requesting the backup of \"prod\" from http://127.0.0.1:1/web/database/backup"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "source.zip")
			got, err := odoosource.Fetch(context.Background(), odoosource.Options{URL: c.url, Database: c.db, MasterPassword: c.pw, File: file, Egress: loopbackHTTP})
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				onDisk, rerr := os.ReadFile(file)
				if rerr != nil || !bytes.Equal(onDisk, body) {
					t.Fatalf("file holds %d bytes (%v), want the %d served", len(onDisk), rerr, len(body))
				}
				if got.SHA256 != hex.EncodeToString(want[:]) || got.Size != int64(len(body)) {
					t.Fatalf("result %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), c.pw) {
				t.Fatalf("the error carries the master password: %v", err)
			}
			if errors.Is(err, odoosource.ErrRefused) != c.refused {
				t.Fatalf("errors.Is(ErrRefused) = %v", !c.refused)
			}
			if _, serr := os.Stat(file); !os.IsNotExist(serr) {
				t.Fatalf("a refused fetch left %s behind", file)
			}
		})
	}
}

// A source that redirects to another host never gets the master password
// there: the redirect is refused before the second request.
func TestFetchRefusesARedirectToAnotherHost(t *testing.T) {
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() == nil && r.PostForm.Get("master_pwd") != "" {
			stolen.Add(1)
		}
		_, _ = w.Write(aZip(t))
	}))
	t.Cleanup(thief.Close)
	_, port, _ := strings.Cut(strings.TrimPrefix(thief.URL, "http://"), ":")
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// localhost and 127.0.0.1: another host (and port), same machine.
		http.Redirect(w, r, "http://localhost:"+port+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(source.Close)
	file := filepath.Join(t.TempDir(), "source.zip")
	_, err := odoosource.Fetch(context.Background(), odoosource.Options{URL: source.URL, Database: "prod", MasterPassword: password, File: file,
		Egress: egress.Policy{Allow: []egress.Rule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}, {Prefix: netip.MustParsePrefix("::1/128")}}, AllowHTTPCredentials: true}})
	if !errors.Is(err, egress.ErrRedirect) {
		t.Fatalf("Fetch: %v, want ErrRedirect", err)
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the redirect target received the master password %d times", n)
	}
	if _, serr := os.Stat(file); !os.IsNotExist(serr) {
		t.Fatalf("a refused fetch left %s behind", file)
	}
}

// Without the administrator's leave, the master password goes over https
// only, and never to an internal address.
func TestFetchRefusesPlainHTTPAndInternalAddresses(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got.Add(1) }))
	t.Cleanup(srv.Close)
	https := strings.Replace(srv.URL, "http://", "https://", 1)
	for _, c := range []struct {
		name, url string
		policy    egress.Policy
		want      string
	}{
		{"plain http", srv.URL, egress.Policy{Allow: loopbackHTTP.Allow}, "use https"},
		{"loopback", https, egress.Policy{}, "loopback"},
		{"a name resolving to loopback", strings.Replace(https, "127.0.0.1", "localhost", 1), egress.Policy{}, "loopback"},
		{"link-local", "https://169.254.169.254", egress.Policy{}, "link-local"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := odoosource.Fetch(context.Background(), odoosource.Options{URL: c.url, Database: "prod", MasterPassword: password,
				File: filepath.Join(t.TempDir(), "source.zip"), Egress: c.policy})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), password) {
				t.Fatalf("Fetch: %v, want a refusal naming %q", err, c.want)
			}
		})
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("the listener received %d requests", n)
	}
}

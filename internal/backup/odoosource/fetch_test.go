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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoosource"
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
			got, err := odoosource.Fetch(context.Background(), odoosource.Options{URL: c.url, Database: c.db, MasterPassword: c.pw, File: file})
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

package odoozip_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// envMB reads a size in MB from the environment.
func envMB(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a number of MB", name, v)
	}
	return n
}

// generateDatabase fills db with an Odoo-like table of text, numbers,
// timestamps and bytea until the database is at least mb MB.
func generateDatabase(t *testing.T, s *pgharness.Server, db string, mb int) int64 {
	t.Helper()
	conn := dbtoolstest.Connect(t, s, db)
	ctx := dbtoolstest.Ctx(t)
	dbtoolstest.Exec(t, conn, `CREATE TABLE mail_message (id bigserial PRIMARY KEY, model varchar, res_id integer,
		subject varchar, body text, create_date timestamp, amount numeric(16,2), attachment bytea)`)
	var size int64
	for batch := 0; ; batch++ {
		if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size >= int64(mb)<<20 {
			return size
		}
		// About 8 MB of rows a batch: hex text compresses about 2:1, the
		// bytea not at all, as with real mail bodies and attachments.
		if _, err := conn.Exec(ctx, `INSERT INTO mail_message (model, res_id, subject, body, create_date, amount, attachment)
			SELECT 'res.partner', i % 1000, 'Subject ' || i,
			       md5(i::text) || ' ' || md5((i + 1)::text) || ' ' || md5((i + 2)::text) || ' ' || md5((i + 3)::text) || ' ' || md5((i + 4)::text),
			       timestamp '2025-01-01' + i * interval '1 minute', i * 1.25,
			       decode(md5((i * 7)::text) || md5((i * 11)::text) || md5((i * 13)::text), 'hex')
			  FROM generate_series($1::bigint, $1::bigint + 19999) AS i`, int64(batch)*20000); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackupThroughput measures `data backup` and `data restore-backup`
// through S3 (versitygw on this machine) for a generated database of
// BACKUP_THROUGHPUT_MB MB (default 50) with a filestore of
// BACKUP_THROUGHPUT_FILESTORE_MB MB (default 10), in both formats, and
// checks that each restore is identical. The figures are logged:
//
//	BACKUP_THROUGHPUT_MB=1024 go test -v -run TestBackupThroughput -timeout 60m ./internal/backup/odoozip/
func TestBackupThroughput(t *testing.T) {
	mb := envMB(t, "BACKUP_THROUGHPUT_MB", 50)
	fsMB := envMB(t, "BACKUP_THROUGHPUT_FILESTORE_MB", 10)
	s := dbtoolstest.Server(t)
	s3srv := s3harness.Start(t)
	s3srv.SetEnv(t)
	src := dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	start := time.Now()
	dbSize := generateDatabase(t, s, src, mb)
	filestore := filepath.Join(t.TempDir(), "filestore")
	for i := range fsMB {
		p := filepath.Join(filestore, fmt.Sprintf("%02x", i%256), fmt.Sprintf("%040x", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, randomBytes(t, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("generated database %s of %.1f MB (pg_database_size) and a filestore of %d MB in %v", src, toMB(dbSize), fsMB, time.Since(start).Round(time.Second))
	want := dbtoolstest.Checksums(t, s, src)
	total := float64(dbSize) + float64(fsMB<<20)
	for _, format := range []string{"zip", "dump"} {
		url := "s3://" + s3srv.Bucket + "/bench/" + src + "." + format
		dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
		start := time.Now()
		res, stderr, err := runData(t, "backup", "--format", format, "--filestore", filestore, "--to", url, "--pg-bin-dir", s.BinDir)
		if err != nil {
			t.Fatalf("backup: %v\n%s", err, stderr)
		}
		backup := time.Since(start)

		target := dbtoolstest.Name(t, "target")
		dbtoolstest.CreateEmpty(t, s, target)
		restored := filepath.Join(t.TempDir(), "restored")
		start = time.Now()
		if _, stderr, err := runData(t, "restore-backup", "--from", url, "--database", target, "--filestore", restored,
			"--work-dir", t.TempDir(), "--pg-bin-dir", s.BinDir); err != nil {
			t.Fatalf("restore-backup: %v\n%s", err, stderr)
		}
		restore := time.Since(start)
		if got := dbtoolstest.Checksums(t, s, target); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: restored tables differ", format)
		}
		assertSameFilestore(t, restored, filestore)
		t.Logf("%-4s: database %.0f MB + filestore %d MB → archive %.1f MB; backup %v (%.1f MB/s), restore %v (%.1f MB/s)",
			format, toMB(dbSize), fsMB, toMB(res.Bytes), backup.Round(10*time.Millisecond), toMB(int64(total))/backup.Seconds(),
			restore.Round(10*time.Millisecond), toMB(int64(total))/restore.Seconds())
		dropDatabase(t, s, target)
	}
}

func toMB(n int64) float64 { return float64(n) / (1 << 20) }

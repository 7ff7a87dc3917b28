package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// runCLI runs the operator's command line in process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// readResult reads the termination log, checks it is one JSON line within
// the limit, and empties it for the next command.
func readResult(t *testing.T, path string) datajob.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || len(b) > datajob.TerminationLogLimit || bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("termination log is not one JSON line within %d bytes: %q", datajob.TerminationLogLimit, b)
	}
	var res datajob.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("termination log %q: %v", b, err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return res
}

// wrapTools makes a directory whose pg_dump and pg_restore record their
// arguments, and whether PGPASSWORD reached them, then run the real tool.
func wrapTools(t *testing.T, realBin string) (dir, argsLog string) {
	dir = t.TempDir()
	argsLog = filepath.Join(dir, "args.log")
	t.Setenv("REAL_PG_BIN", realBin)
	t.Setenv("ARGS_LOG", argsLog)
	script := "#!/bin/sh\n" +
		`echo "$(basename "$0") $* [PGPASSWORD ${PGPASSWORD:+set}]" >> "$ARGS_LOG"` + "\n" +
		`exec "$REAL_PG_BIN/$(basename "$0")" "$@"` + "\n"
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir, argsLog
}

func tableChecksums(t *testing.T, s *pgharness.Server, db string) map[string]string {
	t.Helper()
	conn := dbtoolstest.Connect(t, s, db)
	defer func() { _ = conn.Close(context.Background()) }()
	sums, err := dbtools.TableChecksums(dbtoolstest.Ctx(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// An upgrade's restore point and its restore, end to end, as the instance's
// own (unprivileged) role: `data backup --format dump` to a claim, `data
// restore-backup --skip-filestore` into an empty database, modules.
func TestDataCommandRestorePointBackupAndRestore(t *testing.T) {
	s := pgharness.Start(t)
	admin := dbtoolstest.Connect(t, s, "postgres")
	ctx := dbtoolstest.Ctx(t)
	role, src := dbtoolstest.Name(t, "odoo"), dbtoolstest.Name(t, "src")
	password := `p@ss w'o"rd\=;` + dbtoolstest.Name(t, "pw")
	verifier, err := postgres.NewScramVerifier(password)
	if err != nil {
		t.Fatal(err)
	}
	dbtoolstest.Exec(t, admin, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN PASSWORD '"+verifier+"'")
	dbtoolstest.CreateFixture(t, s, src, role)
	dbtoolstest.SetPGEnv(t, s, role, password, src)
	bin, argsLog := wrapTools(t, s.BinDir)
	dir := filepath.Join(t.TempDir(), "restore-points")
	termLog := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(termLog, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--pg-bin-dir", bin, "--termination-log", termLog}
	var stderrs strings.Builder

	// The restore point: a dump-format backup without the filestore.
	dump := filepath.Join(dir, "shop-pre-upgrade-1.dump")
	_, stderr, err := runCLI(t, append([]string{"data", "backup", "--format", "dump", "--to", "file://" + dump}, common...)...)
	stderrs.WriteString(stderr)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	res := readResult(t, termLog)
	sum, err := dbtools.VerifyDump(ctx, dump)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Command != "backup" || res.SHA256 != sum || res.Format != "dump" || res.FilestoreFiles != 0 {
		t.Fatalf("backup result %+v (sha256 of the file %s)", res, sum)
	}
	srcSums := tableChecksums(t, s, src)

	// Its restore into an empty database owned by the role.
	target := dbtoolstest.Name(t, "target")
	if err := dbtools.CreateEmptyDatabase(ctx, admin, target, role); err != nil {
		t.Fatal(err)
	}
	restore := append([]string{"data", "restore-backup", "--from", "file://" + dump, "--database", target, "--skip-filestore"}, common...)
	_, stderr, err = runCLI(t, restore...)
	stderrs.WriteString(stderr)
	if err != nil {
		t.Fatalf("restore-backup: %v\n%s", err, stderr)
	}
	if res = readResult(t, termLog); !res.OK || res.Command != "restore-backup" || res.Database != target || res.SHA256 != sum {
		t.Fatalf("result %+v", res)
	}
	if got := tableChecksums(t, s, target); !reflect.DeepEqual(got, srcSums) {
		t.Fatalf("restored tables differ:\n got %v\nwant %v", got, srcSums)
	}
	var notOwned int
	if err := dbtoolstest.Connect(t, s, target).QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> $1`, role).Scan(&notOwned); err != nil || notOwned != 0 {
		t.Fatalf("%d restored relations not owned by the role (%v)", notOwned, err)
	}

	// A second restore into the now loaded target is refused.
	_, stderr, err = runCLI(t, restore...)
	stderrs.WriteString(stderr)
	if err == nil || !strings.Contains(err.Error(), "target database is not empty") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("restore into a loaded database: %v", err)
	}
	if !strings.Contains(stderr, "Error: "+err.Error()+"\n") {
		t.Fatalf("stderr does not end with the one-line error: %q", stderr)
	}
	if res = readResult(t, termLog); res.OK || res.Error != err.Error() {
		t.Fatalf("result of a failed restore: %+v", res)
	}

	// modules prints the snapshot as one JSON line, with the pending modules.
	dbtoolstest.Exec(t, dbtoolstest.Connect(t, s, src), "SET ROLE "+pgx.Identifier{role}.Sanitize(),
		"UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'stock'")
	stdout, stderr, err := runCLI(t, "data", "modules", "--termination-log", termLog)
	stderrs.WriteString(stderr)
	if err != nil {
		t.Fatal(err)
	}
	var printed dbtools.ModuleSnapshot
	if strings.Count(stdout, "\n") != 1 || json.Unmarshal([]byte(stdout), &printed) != nil || printed.Database != src ||
		len(printed.Modules) != len(dbtoolstest.FixtureModules) || printed.TakenAt.IsZero() {
		t.Fatalf("modules printed %q", stdout)
	}
	if res = readResult(t, termLog); !res.OK || res.Command != "modules" || !slices.Equal(res.Pending, []string{"stock (to upgrade)"}) {
		t.Fatalf("modules result %+v", res)
	}
	_, _, err = runCLI(t, "data", "modules", "--database", "postgres", "--termination-log", termLog)
	if err == nil || !strings.Contains(err.Error(), "has no ir_module_module table") {
		t.Fatalf("modules of a database without Odoo: %v", err)
	}
	_ = readResult(t, termLog)

	// The password reached the tools through their environment only, and
	// appears in no argument, log line or result.
	args, err := os.ReadFile(argsLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pg_dump ", "pg_restore --list " + dump,
		"pg_restore --no-owner --no-privileges --exit-on-error --dbname=dbname='" + target + "' " + dump, "[PGPASSWORD set]"} {
		if !strings.Contains(string(args), want) {
			t.Errorf("tool calls lack %q:\n%s", want, args)
		}
	}
	if strings.Contains(string(args), "PGPASSWORD ]") {
		t.Errorf("a tool ran without PGPASSWORD:\n%s", args)
	}
	for what, text := range map[string]string{"tool arguments": string(args), "stderr": stderrs.String()} {
		if strings.Contains(text, password) || strings.Contains(text, verifier) {
			t.Errorf("%s contain the password:\n%s", what, text)
		}
	}
	if !strings.Contains(stderrs.String(), "msg=\"backup stored\"") {
		t.Errorf("no progress on stderr:\n%s", stderrs.String())
	}
}

func TestDataCommandFailures(t *testing.T) {
	s := pgharness.Start(t)
	password := "wrong-" + dbtoolstest.Name(t, "pw")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, password, "postgres")
	dir := t.TempDir()
	termLog := filepath.Join(dir, "termination-log")
	if err := os.WriteFile(termLog, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--pg-bin-dir", s.BinDir, "--termination-log", termLog}

	_, stderr, err := runCLI(t, append([]string{"data", "backup", "--format", "dump", "--to", "file://" + filepath.Join(dir, "rp.dump")}, common...)...)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(stderr, password) {
		t.Fatalf("backup with a wrong password: %v\n%s", err, stderr)
	}
	if res := readResult(t, termLog); res.OK || res.Error != err.Error() || strings.Contains(res.Error, password) {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "rp.dump.sha256")); err == nil {
		t.Fatal("a failed backup left a checksum")
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"data", "backup", "--format", "sql", "--to", "file://" + filepath.Join(dir, "x")}, `--format "sql"`},
		{[]string{"data", "restore-backup", "--from", "file://" + filepath.Join(dir, "none.dump")}, `required flag(s) "database" not set`},
		{[]string{"data", "restore-backup", "--from", "file://" + filepath.Join(dir, "none.dump"), "--database", "x"}, "no checksum file"},
	} {
		_, _, err := runCLI(t, append(c.args, common...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error with %q, got %v", c.args, c.want, err)
		}
	}

	// A termination log that does not exist is not created.
	missing := filepath.Join(dir, "no-such-termination-log")
	_, _, _ = runCLI(t, "data", "modules", "--termination-log", missing)
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("the termination log was created")
	}
}

func TestEncodeResultIsBounded(t *testing.T) {
	res := datajob.Result{Command: "restore-point", OK: false, Error: strings.Repeat("é \"quoted\" ", 1000)}
	for i := range 400 {
		res.Pending = append(res.Pending, strings.Repeat("m", 20)+string(rune('a'+i%26))+" (to upgrade)")
	}
	b := encodeResult(res, datajob.TerminationLogLimit)
	var got datajob.Result
	if len(b) > datajob.TerminationLogLimit || json.Unmarshal(b, &got) != nil || !utf8.Valid(b) {
		t.Fatalf("%d bytes: %s", len(b), b)
	}
	if !strings.HasSuffix(got.Pending[len(got.Pending)-1], " more") || !strings.HasSuffix(got.Error, "…") || len(got.Error) < 1000 {
		t.Fatalf("pending %v, error %d bytes", got.Pending[len(got.Pending)-1], len(got.Error))
	}
	small := datajob.Result{Command: "modules", OK: true, Modules: 3}
	if b := encodeResult(small, datajob.TerminationLogLimit); string(b) != `{"command":"modules","ok":true,"modules":3,"seconds":0}`+"\n" {
		t.Fatalf("small result: %s", b)
	}
}

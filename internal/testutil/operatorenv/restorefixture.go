package operatorenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/onsi/gomega"

	"github.com/odoo-operator/odoo-operator/internal/manager"
)

// MailFixtureSQL gives a database Odoo's parameter and mail server tables,
// with the production SMTP and IMAP servers active: what a restored copy
// must not use.
const MailFixtureSQL = `CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
	INSERT INTO ir_config_parameter (key, value) VALUES ('database.uuid', 'f7c5a0de-0000-4000-8000-000000000001');
	CREATE TABLE ir_mail_server (id serial PRIMARY KEY, name varchar NOT NULL, smtp_host varchar, smtp_port integer, smtp_encryption varchar, smtp_user varchar, smtp_pass varchar, active boolean);
	INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_encryption, smtp_user, smtp_pass, active) VALUES ('Production SMTP', 'smtp.shop.com', 587, 'starttls', 'shop', 'smtp-secret', true);
	CREATE TABLE fetchmail_server (id serial PRIMARY KEY, name varchar NOT NULL, server varchar, active boolean);
	INSERT INTO fetchmail_server (name, server, active) VALUES ('Inbox', 'imap.shop.com', true)`

// BackupWithDataCode backs up db (with the filestore directory fsRoot/<db>)
// to location with the real `data backup` code, as an OdooBackupJob's Job
// would.
func BackupWithDataCode(t *testing.T, g gomega.Gomega, db, fsRoot, location string) {
	t.Helper()
	t.Setenv("PGDATABASE", db)
	t.Setenv("PG_BIN_DIR", pg.BinDir)
	root := manager.NewRootCommand()
	root.SetArgs([]string{"data", "backup", "--format", "zip", "--to", location,
		"--filestore", filepath.Join(fsRoot, db), "--termination-log", filepath.Join(t.TempDir(), "termination-log")})
	root.SetOut(os.Stderr)
	root.SetErr(os.Stderr)
	g.Expect(root.ExecuteContext(context.Background())).To(gomega.Succeed())
}

// RestoreFixture gives the instance's database a table and its filestore a
// file, backs them up to location, then changes the live database so the
// backup differs from it. It returns the backup's and the live checksums.
func RestoreFixture(t *testing.T, g gomega.Gomega, db, location string) (backup, live map[string]string) {
	t.Helper()
	ModuleSQL(g, db, MailFixtureSQL)
	ModuleSQL(g, db, `CREATE TABLE sale_order (id serial PRIMARY KEY, name text, amount numeric(12,2));
		INSERT INTO sale_order (name, amount) SELECT 'SO' || i, i * 1.5 FROM generate_series(1, 200) i`)
	fsRoot := t.TempDir()
	g.Expect(os.MkdirAll(filepath.Join(fsRoot, db, "ab"), 0o750)).To(gomega.Succeed())
	g.Expect(os.WriteFile(filepath.Join(fsRoot, db, "ab", "abcdef"), []byte("an attachment"), 0o600)).To(gomega.Succeed())
	BackupWithDataCode(t, g, db, fsRoot, location)
	backup = Checksums(g, db)
	ModuleSQL(g, db, `INSERT INTO sale_order (name, amount) VALUES ('written after the backup', 1)`)
	live = Checksums(g, db)
	g.Expect(live).NotTo(gomega.Equal(backup))
	return backup, live
}

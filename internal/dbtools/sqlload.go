package dbtools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LoadSQLOptions configure LoadSQL.
type LoadSQLOptions struct {
	// Name names the script in errors, e.g. dump.sql.
	Name string
	// Stderr, when set, receives the server's notices and the error.
	Stderr io.Writer
}

// LoadSQL runs a plain SQL script (pg_dump's plain format) on database (the
// connection from the PG* environment, as ConnectEnv) in one
// transaction, like `psql -X -v ON_ERROR_STOP=1 --single-transaction`, but
// without psql: statements go to the server as SQL, COPY FROM STDIN data as
// COPY data, and a psql meta-command (a backslash outside COPY data) is never
// sent: it stops the load (see SQLScanner). The first error
// rolls everything back; it names the script's line.
func LoadSQL(ctx context.Context, database string, r io.Reader, opts LoadSQLOptions) (err error) {
	name := opts.Name
	if name == "" {
		name = "the script"
	}
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return fmt.Errorf("reading the PG* environment: %w", err)
	}
	cfg.Database = database
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = ApplicationName
	}
	if opts.Stderr != nil {
		cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			_, _ = fmt.Fprintf(opts.Stderr, "%s: %s\n", n.Severity, n.Message)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to database %q: %w", cfg.Database, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	pc := conn.PgConn()
	defer func() {
		if err != nil && opts.Stderr != nil {
			_, _ = fmt.Fprintln(opts.Stderr, err.Error())
		}
	}()
	if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
		return fmt.Errorf("loading %s: %w", name, err)
	}
	rollback := func() { _, _ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll() }
	sc := NewSQLScanner(r)
	for {
		item, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rollback()
			return fmt.Errorf("%s %w", name, err)
		}
		if item.Copy {
			data := item.Data
			if data == nil {
				data = strings.NewReader("")
			}
			_, err = pc.CopyFrom(ctx, data, item.SQL)
		} else {
			_, err = pc.Exec(ctx, item.SQL).ReadAll()
		}
		if err != nil {
			rollback()
			return fmt.Errorf("%s line %d: %s", name, item.Line, oneLine(err))
		}
	}
	if _, err := pc.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		return fmt.Errorf("committing %s: %w", name, err)
	}
	return nil
}

// oneLine is the error's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

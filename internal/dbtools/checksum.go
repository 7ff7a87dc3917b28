package dbtools

import (
	"context"
	"crypto/md5" //nolint:gosec // a content fingerprint, not a security measure
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// checksumSettings make a row's text form independent of the session, so
// that checksums taken over different connections compare.
var checksumSettings = []string{
	"SET LOCAL TimeZone = 'UTC'",
	"SET LOCAL DateStyle = 'ISO, YMD'",
	"SET LOCAL IntervalStyle = 'postgres'",
	"SET LOCAL bytea_output = 'hex'",
	"SET LOCAL extra_float_digits = 1",
}

// TableChecksums fingerprints the contents of every table of schema public,
// keyed by table name, in one read-only snapshot. A value is
// "<rows>:<md5 hex>"; equal values mean equal contents (as multisets of
// rows) with overwhelming probability.
//
// Each row's text form is hashed with md5 on the server and the hashes are
// added up (two 64-bit halves, as numeric): the result does not depend on
// the rows' order, and the server needs neither a sort nor memory
// proportional to the table, so it works on tables of any size, unlike
// string_agg over the rows, which fails beyond 1 GB.
func TableChecksums(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, s := range checksumSettings {
		if _, err := tx.Exec(ctx, s); err != nil {
			return nil, err
		}
	}
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tables))
	for _, t := range tables {
		var n int64
		var hi, lo string
		if err := tx.QueryRow(ctx, tableChecksumSQL(t)).Scan(&n, &hi, &lo); err != nil {
			return nil, fmt.Errorf("checksum of table %q: %w", t, err)
		}
		sum := md5.Sum([]byte(hi + "/" + lo)) //nolint:gosec // see above
		out[t] = fmt.Sprintf("%d:%s", n, hex.EncodeToString(sum[:]))
	}
	return out, nil
}

// tableChecksumSQL sums the md5 of every row of public.<table>, split into
// two signed 64-bit halves. (t.*) is the whole row even when the table has
// a column named t.
func tableChecksumSQL(table string) string {
	return `SELECT count(*),
  COALESCE(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0)::text,
  COALESCE(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)::text
 FROM (SELECT md5((t.*)::text) AS h FROM ` + pgx.Identifier{"public", table}.Sanitize() + ` AS t) AS s`
}

package odoozip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Manifest is Odoo's manifest.json, as odoo.service.db.dump_db_manifest
// writes it. The JSON keys and their order are Odoo's.
type Manifest struct {
	// OdooDump is always "1".
	OdooDump string `json:"odoo_dump"`
	DBName   string `json:"db_name"`
	// Version is Odoo's release.version, e.g. "18.0" or "saas~17.1".
	Version string `json:"version"`
	// VersionInfo is release.version_info, e.g. [18, 0, 0, "final", 0, ""].
	VersionInfo []any `json:"version_info"`
	// MajorVersion is release.major_version (the series), e.g. "18.0".
	MajorVersion string `json:"major_version"`
	// PGVersion is the server's version as Odoo computes it: "%d.%d" of
	// divmod(server_version / 100, 100), which gives "15.0" for every
	// PostgreSQL 15 (and "9.6" for 9.6).
	PGVersion string `json:"pg_version"`
	// Modules maps each installed module to its latest_version.
	Modules map[string]string `json:"modules"`
}

// DumpFormatVersion is the value of odoo_dump.
const DumpFormatVersion = "1"

// Series is the Odoo series of the manifest: major_version, or the first
// two parts of version when major_version is missing.
func (m Manifest) Series() string {
	if m.MajorVersion != "" {
		return m.MajorVersion
	}
	return SeriesOf(m.Version)
}

// SeriesOf returns the first two dot-separated parts of an Odoo version or
// of a module's latest_version ("18.0.1.3" → "18.0", "saas~17.1.1.0" →
// "saas~17.1"), or "" when there are fewer.
func SeriesOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "." + parts[1]
}

var versionPattern = regexp.MustCompile(`^((?:saas~)?[0-9]+)\.([0-9]+)(?:(alpha|beta|rc)([0-9]*))?(.*)$`)

// ParseVersion turns an Odoo release version ("18.0", "saas~17.1",
// "19.0rc1") into release.version_info and release.major_version.
func ParseVersion(version string) (info []any, major string, err error) {
	m := versionPattern.FindStringSubmatch(version)
	if m == nil {
		return nil, "", fmt.Errorf("odoo version %q: want MAJOR.MINOR such as 18.0 or saas~17.1", version)
	}
	var first any = m[1]
	if n, err := strconv.Atoi(m[1]); err == nil {
		first = n
	}
	minor, _ := strconv.Atoi(m[2])
	level := map[string]string{"": "final", "alpha": "alpha", "beta": "beta", "rc": "candidate"}[m[3]]
	serial := 0
	if m[4] != "" {
		serial, _ = strconv.Atoi(m[4])
	}
	return []any{first, minor, 0, level, serial, m[5]}, m[1] + "." + m[2], nil
}

// pgVersion formats server_version_num as Odoo's manifest does.
func pgVersion(num int) string {
	v := num / 100
	return fmt.Sprintf("%d.%d", v/100, v%100)
}

// readManifest builds the manifest of the database conn is connected to,
// in conn's current transaction. version empty: the series of base's
// latest_version.
func readManifest(ctx context.Context, conn *pgx.Conn, version string) (Manifest, error) {
	m := Manifest{OdooDump: DumpFormatVersion, DBName: conn.Config().Database, Modules: map[string]string{}}
	rows, err := conn.Query(ctx, `SELECT name, COALESCE(latest_version, '') FROM ir_module_module WHERE state = 'installed'`)
	if err != nil {
		return m, fmt.Errorf("reading the installed modules of %q: %w", m.DBName, err)
	}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			rows.Close()
			return m, err
		}
		m.Modules[name] = v
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("reading the installed modules of %q: %w", m.DBName, err)
	}
	if version == "" {
		base, ok := m.Modules["base"]
		if version = SeriesOf(base); !ok || version == "" {
			return m, fmt.Errorf("database %q: module base is not installed with a version (%q): give the Odoo version", m.DBName, base)
		}
	}
	if m.VersionInfo, m.MajorVersion, err = ParseVersion(version); err != nil {
		return m, err
	}
	m.Version = version
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return m, fmt.Errorf("reading the server version: %w", err)
	}
	m.PGVersion = pgVersion(num)
	return m, nil
}

// ParseManifest reads a manifest.json strictly: every key of Odoo's format
// must be there with its JSON type (modules' versions may be null, as Odoo
// writes a NULL latest_version), and odoo_dump must be "1".
func ParseManifest(b []byte) (Manifest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Manifest{}, fmt.Errorf("manifest.json is not a JSON object: %w", err)
	}
	var m Manifest
	fields := []struct {
		key string
		dst any
	}{
		{"odoo_dump", &m.OdooDump}, {"db_name", &m.DBName}, {"version", &m.Version},
		{"version_info", &m.VersionInfo}, {"major_version", &m.MajorVersion}, {"pg_version", &m.PGVersion},
	}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok || string(v) == "null" {
			return Manifest{}, fmt.Errorf("manifest.json has no %s", f.key)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Manifest{}, fmt.Errorf("manifest.json: %s: %w", f.key, err)
		}
	}
	mods, ok := raw["modules"]
	if !ok {
		return Manifest{}, errors.New("manifest.json has no modules")
	}
	var modules map[string]*string
	if err := json.Unmarshal(mods, &modules); err != nil || modules == nil {
		return Manifest{}, fmt.Errorf("manifest.json: modules is not an object of versions: %s", firstBytes(mods, 80))
	}
	m.Modules = make(map[string]string, len(modules))
	for k, v := range modules {
		if v != nil {
			m.Modules[k] = *v
		} else {
			m.Modules[k] = ""
		}
	}
	// JSON numbers decode as float64; version_info holds integers.
	for i, v := range m.VersionInfo {
		if f, ok := v.(float64); ok && f == float64(int(f)) {
			m.VersionInfo[i] = int(f)
		}
	}
	if m.OdooDump != DumpFormatVersion {
		return Manifest{}, fmt.Errorf("manifest.json: odoo_dump is %q, want %q", m.OdooDump, DumpFormatVersion)
	}
	return m, nil
}

func firstBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

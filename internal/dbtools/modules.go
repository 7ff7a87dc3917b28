package dbtools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Module is one row of Odoo's ir_module_module. LatestVersion is the version
// installed in the database (Odoo's misleadingly named latest_version), empty
// when the module is not installed.
type Module struct {
	Name          string `json:"name"`
	State         string `json:"state"`
	LatestVersion string `json:"latestVersion"`
}

// ModuleSnapshot is the module list of a database at a point in time, as
// written to a restore point's NAME.modules.json and printed by
// `odoo-operator data modules`.
type ModuleSnapshot struct {
	Database string    `json:"database"`
	TakenAt  time.Time `json:"takenAt"`
	Modules  []Module  `json:"modules"`
}

// ErrNoModuleTable is returned by ReadModules for a database without Odoo's
// module table.
var ErrNoModuleTable = errors.New("database has no ir_module_module table: is it an initialised Odoo database?")

// modulesSQL lists the modules that can exist in the database. The byte
// order (COLLATE "C") does not depend on the database's collation.
const modulesSQL = `SELECT name, state, COALESCE(latest_version, '') FROM ir_module_module
 WHERE state <> 'uninstallable' ORDER BY name COLLATE "C"`

// ReadModules reads the modules of the database, sorted by name, leaving
// out the uninstallable ones. Run on a connection inside a transaction, it
// reads that transaction's snapshot.
func ReadModules(ctx context.Context, conn *pgx.Conn) ([]Module, error) {
	rows, err := conn.Query(ctx, modulesSQL)
	if err != nil {
		return nil, moduleQueryError(err)
	}
	mods, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Module, error) {
		var m Module
		err := r.Scan(&m.Name, &m.State, &m.LatestVersion)
		return m, err
	})
	if err != nil {
		return nil, moduleQueryError(err)
	}
	return mods, nil
}

func moduleQueryError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return ErrNoModuleTable
	}
	return fmt.Errorf("reading ir_module_module: %w", err)
}

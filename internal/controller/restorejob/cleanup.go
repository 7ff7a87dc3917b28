package restorejob

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// dropTarget drops the temporary database of a restore that stopped before
// the swap (load failed, verification failed, neutralize failed or refused,
// instance gone): status.targetDatabase, only under the exact name this
// restore derives for it (<live>_restore_<hash>), never the live database
// nor a database kept by design (<live>_pre_restore_<hash> after a swap). A
// database that cannot be dropped is named in the note and left with
// targetDatabaseDropped false. The failure is decided from the Job and the
// database, both stored, so a restart before the status is written decides
// it again. note (beginning with "; ") says what happened to it.
func (r *Reconciler) dropTarget(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (note string, dropped bool) {
	st := rj.Status
	if st.TargetDatabase == "" {
		return "", false
	}
	filestore := fmt.Sprintf("; the directory filestore/%s on the filestore claim, if the load wrote one, is not removed", st.TargetDatabase)
	keep := func(why string) (string, bool) {
		return fmt.Sprintf("; the temporary database %q could not be dropped (%s): drop it by hand", st.TargetDatabase, why) + filestore, false
	}
	if st.TargetDatabase == st.Database || st.TargetDatabase != resources.RestoreTargetDatabaseName(st.Database, rj) {
		return keep(fmt.Sprintf("it is not the name this restore creates, %q", resources.RestoreTargetDatabaseName(st.Database, rj)))
	}
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return keep("reading the OdooInstance: " + err.Error())
	}
	cluster, err := r.clusterOf(ctx, inst)
	if err != nil {
		return keep("the instance's PostgreSQL cluster: " + err.Error())
	}
	if err := r.Databases.WithAdmin(ctx, cluster, func(conn *pgx.Conn) error {
		return dbtools.DropDatabase(ctx, conn, st.TargetDatabase)
	}); err != nil {
		return keep(err.Error())
	}
	return fmt.Sprintf("; the temporary database %q this restore had created was dropped", st.TargetDatabase) + filestore, true
}

package operation

import (
	"strings"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// StagingRefreshRestoreName is the OdooRestoreJob a staging refresh creates
// into its staging instance: <refresh>-restore, shortened so that the
// restore's own Job (<restore>-restore) fits 63 characters.
func StagingRefreshRestoreName(refresh string) string {
	return childName(refresh, "-restore")
}

// StagingRefreshBackupName is the OdooBackupJob of production a staging
// refresh takes: <refresh>-backup, shortened likewise.
func StagingRefreshBackupName(refresh string) string {
	return childName(refresh, "-backup")
}

func childName(name, suffix string) string {
	// The child's Job appends another suffix of at most 8 characters.
	if limit := 63 - len("-restore") - len(suffix); len(name) > limit {
		name = strings.TrimRight(name[:limit], "-.")
	}
	return name + suffix
}

// handedOver is a staging refresh's restore taking over the lock its refresh
// holds: the refresh keeps the staging instance's lock from its first step
// to the creation of its restore, which then records itself (kind Restore,
// its steps, the tiers it holds) in the refresh's place. Nothing can come
// in between.
func handedOver(h odoov1alpha2.OperationStatus, kind odoov1alpha2.OperationKind, name string) bool {
	return h.Kind == odoov1alpha2.OperationStagingRefresh && kind == odoov1alpha2.OperationRestore &&
		name == StagingRefreshRestoreName(h.Name)
}

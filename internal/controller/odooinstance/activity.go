package odooinstance

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// activity is what the instance is busy with: it names the phase `kubectl get
// odoo` prints, and the reason Ready gives while nothing serves.
type activity struct {
	phase   odoov1alpha2.Phase
	reason  string
	message string
}

// currentActivity reads the operation holding the database (status.operation)
// and falls back to the signals older objects and operations that do not take
// the lock carry: an upgrade in flight, the restore-hold annotation, a
// filestore copy, a rollback whose image does not serve yet. A backup leaves
// the instance serving, so it is no activity. nil when the instance is idle.
// web is the web Deployment and webOK whether it settled on its template.
func currentActivity(inst *odoov1alpha2.OdooInstance, status *odoov1alpha2.OdooInstanceStatus, web *appsv1.Deployment, webOK bool) *activity {
	if a := operationActivity(status); a != nil {
		return a
	}
	up := status.Upgrade
	switch {
	case operation.TiersHeld(inst) != "":
		return &activity{odoov1alpha2.PhaseRestoring, odoov1alpha2.ReasonRestoring,
			fmt.Sprintf("OdooRestoreJob %s swaps the database; web and cron are held at 0 replicas", operation.TiersHeld(inst))}
	case up.InFlight() && up.Step == odoov1alpha2.UpgradeStepRestore:
		return &activity{odoov1alpha2.PhaseRestoring, odoov1alpha2.ReasonRestoring, upgradeMessage(up)}
	case up.InFlight():
		return &activity{odoov1alpha2.PhaseUpgrading, odoov1alpha2.ReasonUpgrading, upgradeMessage(up)}
	case status.Filestore != nil && status.Filestore.Migration != nil && status.Filestore.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying:
		return &activity{odoov1alpha2.PhaseMigrating, odoov1alpha2.ReasonFilestoreMigrating,
			"the filestore is copied to a claim of the new storage class; web and cron are stopped"}
	}
	// A rollback is over once web runs the restored image with all its pods.
	if rb := status.Deployment.Rollback; rb != nil && rb.ToImage != "" && (!webOK || web == nil || containerImage(web) != rb.ToImage) {
		return &activity{odoov1alpha2.PhaseRollingBack, odoov1alpha2.ReasonRollingBack,
			fmt.Sprintf("rolling back from %s to %s: %s", rb.FromImage, rb.ToImage, rb.Message)}
	}
	return nil
}

// operationActivity maps the database lock record to an activity.
func operationActivity(status *odoov1alpha2.OdooInstanceStatus) *activity {
	op := status.Operation
	if op == nil {
		return nil
	}
	message := fmt.Sprintf("operation %s %s", op.Kind, op.Name)
	if op.Step != "" {
		message += ", step " + op.Step
	}
	switch op.Kind {
	case odoov1alpha2.OperationUpgrade, odoov1alpha2.OperationModuleInstall:
		if up := status.Upgrade; up.InFlight() && up.Step == odoov1alpha2.UpgradeStepRestore {
			return &activity{odoov1alpha2.PhaseRestoring, odoov1alpha2.ReasonRestoring, message}
		}
		return &activity{odoov1alpha2.PhaseUpgrading, odoov1alpha2.ReasonUpgrading, message}
	case odoov1alpha2.OperationRestore, odoov1alpha2.OperationStagingRefresh:
		return &activity{odoov1alpha2.PhaseRestoring, odoov1alpha2.ReasonRestoring, message}
	case odoov1alpha2.OperationFilestoreMigration:
		return &activity{odoov1alpha2.PhaseMigrating, odoov1alpha2.ReasonFilestoreMigrating, message}
	case odoov1alpha2.OperationDatabaseMove:
		return &activity{odoov1alpha2.PhaseMigrating, odoov1alpha2.ReasonDatabaseMoving, message}
	case odoov1alpha2.OperationInit:
		return &activity{odoov1alpha2.PhaseInitializing, odoov1alpha2.ReasonInitializing, message}
	}
	// A backup reads the database while the instance keeps serving.
	return nil
}

func upgradeMessage(up *odoov1alpha2.UpgradeStatus) string {
	if up.Message != "" {
		return up.Message
	}
	return fmt.Sprintf("module upgrade to %s, step %s", up.ImageAttempted, up.Step)
}

package filestoremigration

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Inputs are what Apply needs besides the status: the names Start records
// (derived from the instance by the controller) and why a copy failed.
type Inputs struct {
	// TargetStorageClass, TargetClaim and JobName name the migration Start
	// records.
	TargetStorageClass, TargetClaim, JobName string
	// Why explains Fail: the copy Job's failure, or the vanished target.
	Why string
}

// Apply returns the status to store for a; it is pure, st is not modified.
// Actions that change no status return it as is: their step is already
// recorded and their objects' names are in it.
func Apply(st odoov1alpha2.FilestoreStatus, a Action, in Inputs, now metav1.Time) odoov1alpha2.FilestoreStatus {
	next := *st.DeepCopy()
	switch a {
	case Start:
		next.Migration = &odoov1alpha2.FilestoreMigration{
			Phase: odoov1alpha2.FilestoreMigrationCopying, SourceClaim: st.ClaimName, TargetStorageClass: in.TargetStorageClass,
			TargetClaim: in.TargetClaim, JobName: in.JobName, StartTime: &now,
			Message: fmt.Sprintf("copying claim %s (class %q) to %s (class %q) with Job %s; web and cron are stopped",
				st.ClaimName, st.StorageClass, in.TargetClaim, in.TargetStorageClass, in.JobName),
		}
	case Swap:
		m := st.Migration
		next.PreviousClaim = m.SourceClaim
		next.ClaimName, next.StorageClass = m.TargetClaim, m.TargetStorageClass
		next.Migration = nil
	case Fail:
		m := next.Migration
		m.Phase = odoov1alpha2.FilestoreMigrationFailed
		m.Message = fmt.Sprintf("spec.filestore.storageClass %q was not applied: copying claim %s to %s failed: %s (kubectl logs job/%s); the instance keeps claim %s (class %q); change spec.filestore.storageClass to retry",
			m.TargetStorageClass, m.SourceClaim, m.TargetClaim, in.Why, m.JobName, m.SourceClaim, st.StorageClass)
	case Cleanup:
		next.PreviousClaim = ""
	case Forget:
		next.Migration = nil
	}
	return next
}

// SwapMessage says what a swap of st's migration did.
func SwapMessage(st odoov1alpha2.FilestoreStatus) string {
	m := st.Migration
	return fmt.Sprintf("the filestore moved from claim %s (class %q) to %s (class %q), copied and verified by Job %s; %s is deleted once the instance is Ready",
		m.SourceClaim, st.StorageClass, m.TargetClaim, m.TargetStorageClass, m.JobName, m.SourceClaim)
}

package odooinstance

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/retention"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// pruneMarkPatch marks the OdooBackupJob of that UID for pruning by the
// retention (the UID makes it a precondition: a new object of the same name
// is refused, not marked).
func pruneMarkPatch(uid types.UID) []byte {
	return fmt.Appendf(nil, `{"metadata":{"uid":%q,"annotations":{%q:%q}}}`, uid, odoov1alpha2.AnnotationPrune, odoov1alpha2.PruneRetention)
}

// markForPruning sets the prune annotation on the OdooBackupJob name of
// that UID (gone already is fine): the backup controller then deletes its
// files, then it.
func (r *Reconciler) markForPruning(ctx context.Context, namespace, name string, uid types.UID) error {
	job := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if err := r.Patch(ctx, job, client.RawPatch(types.MergePatchType, pruneMarkPatch(uid))); client.IgnoreNotFound(err) != nil {
		return wrap("marking OdooBackupJob "+name+" for pruning", err)
	}
	return nil
}

// scheduledTime is the schedule time of a scheduled backup (its creation
// time when the annotation is missing or unreadable).
func scheduledTime(b *odoov1alpha2.OdooBackupJob) time.Time {
	at, err := time.Parse(time.RFC3339, b.Annotations["bemade.org/scheduled-time"])
	if err != nil {
		return b.CreationTimestamp.Time
	}
	return at
}

// storageOf identifies where a backup's files are (the key recorded in its
// status, else the requested one).
func storageOf(b *odoov1alpha2.OdooBackupJob) string {
	d := b.Spec.Destination
	key := resources.BackupLocationOf(b, false).Key
	if d.PVC != nil {
		return "pvc " + d.PVC.ClaimName + " " + key
	}
	return "s3 " + d.Endpoint + " " + d.Bucket + " " + key
}

// pruneActions applies the retention to the scheduled backups of inst.
// Only finished backups of the instance, not yet marked nor being deleted,
// take part (the marked ones are on their way out). It returns the backups
// to mark for pruning (their files deleted, then the object), and the
// backups whose object alone is deleted because another scheduled backup
// that stays uses the same file (objects made before every scheduled backup
// on a claim got a file of its own). The newest good backup is never in
// either list (retention.Plan keeps it).
func pruneActions(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob, p retention.Policy, now time.Time) (mark, forget []string) {
	byName := map[string]*odoov1alpha2.OdooBackupJob{}
	var series []retention.Backup
	for i := range backups {
		b := &backups[i]
		if b.Spec.OdooInstanceRef.Name != inst.Name || b.Annotations[odoov1alpha2.AnnotationPrune] != "" || !b.DeletionTimestamp.IsZero() {
			continue
		}
		byName[b.Name] = b
		if b.Status.Phase.Finished() {
			series = append(series, retention.Backup{Name: b.Name, Time: scheduledTime(b), OK: b.Status.Phase == odoov1alpha2.JobCompleted})
		}
	}
	_, drop := retention.Select(series, p, now)
	dropped := map[string]bool{}
	for _, d := range drop {
		dropped[d.Name] = true
	}
	// The files of the backups that stay, running ones included.
	kept := map[string]bool{}
	for name, b := range byName {
		if !dropped[name] {
			kept[storageOf(b)] = true
		}
	}
	for _, d := range drop {
		if kept[storageOf(byName[d.Name])] {
			forget = append(forget, d.Name)
		} else {
			mark = append(mark, d.Name)
		}
	}
	return mark, forget
}

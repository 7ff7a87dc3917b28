package operation

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ConflictRetry is how soon a reconcile whose status write met a newer
// object runs again: at once, on the fresh object.
const ConflictRetry = 100 * time.Millisecond

// PatchStatus is the one way the operator writes a status: a JSON merge
// patch of what changed in obj since base (the object as read), sent with
// obj's resourceVersion as a precondition (CloudNativePG's
// PatchWithOptimisticLock). obj carries the version it was read at, or the
// one the last write of this reconcile returned, so earlier writes of the
// same reconcile do not stand in the way. When anyone else wrote the object
// since, the API server refuses the patch with a Conflict and nothing is
// written: the caller requeues (IsConflict) and decides again on the fresh
// object, so a step is never recorded over a status the decision did not
// see. On success obj holds the stored object.
func PatchStatus(ctx context.Context, c client.StatusClient, obj, base client.Object) error {
	from, ok := base.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("status base %T is not a client.Object", base)
	}
	from.SetResourceVersion(obj.GetResourceVersion())
	return c.Status().Patch(ctx, obj, client.MergeFromWithOptions(from, client.MergeFromWithOptimisticLock{}))
}

// IsConflict is true for a status write refused because the object changed
// since it was read.
func IsConflict(err error) bool {
	return apierrors.IsConflict(err)
}

// UpdateStatus writes the status of an object the caller does not
// reconcile (another kind's status: a backup records the instance's
// lastBackup): it reads obj fresh by key through r, lets change edit it,
// and patches it with PatchStatus. A conflict reads again and calls change
// on the newer object, so change decides on what is stored, never on a
// stale copy; change returns false when there is nothing to write.
func UpdateStatus(ctx context.Context, c client.StatusClient, r client.Reader, key client.ObjectKey, obj client.Object, change func() bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := r.Get(ctx, key, obj); err != nil {
			return err
		}
		base, ok := obj.DeepCopyObject().(client.Object)
		if !ok || !change() {
			return nil
		}
		return PatchStatus(ctx, c, obj, base)
	})
}

package operation_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// TestPatchStatusRefusesAStaleWrite writes a restore's status the way two
// reconciles that read the same version would: the second write is refused
// with a conflict and the first one's step stays stored, where a plain merge
// patch would have written the stale decision over it.
func TestPatchStatusRefusesAStaleWrite(t *testing.T) {
	env, cfg, err := envtestutil.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := envtestutil.BaseScheme()
	if err := odoov1alpha2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rj := &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "back", Namespace: "default"},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceS3,
				S3: &odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "k.zip", Endpoint: "https://s3.example"}},
		},
	}
	if err := c.Create(ctx, rj); err != nil {
		t.Fatal(err)
	}

	// Two reconciles read the same version.
	first, second := rj.DeepCopy(), rj.DeepCopy()

	base := first.DeepCopy()
	first.Status.Step, first.Status.Message = odoov1alpha2.RestoreStepLoad, "loading"
	if err := operation.PatchStatus(ctx, c, first, base); err != nil {
		t.Fatalf("first write: %v", err)
	}
	// A later write of the same reconcile builds on the first one.
	base = first.DeepCopy()
	first.Status.JobName = "back-restore"
	if err := operation.PatchStatus(ctx, c, first, base); err != nil {
		t.Fatalf("second write of the same reconcile: %v", err)
	}

	base = second.DeepCopy()
	second.Status.Phase, second.Status.Message = odoov1alpha2.JobPending, "waiting for OdooInstance \"shop\" to exist"
	err = operation.PatchStatus(ctx, c, second, base)
	if !operation.IsConflict(err) {
		t.Fatalf("a write from a stale read: %v, want a conflict", err)
	}

	stored := &odoov1alpha2.OdooRestoreJob{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rj), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status.Step != odoov1alpha2.RestoreStepLoad || stored.Status.Message != "loading" ||
		stored.Status.JobName != "back-restore" || stored.Status.Phase != "" {
		t.Fatalf("stored status %+v: the stale write must leave the first reconcile's step", stored.Status)
	}

	// UpdateStatus re-reads on a conflict and decides on the stored object.
	calls := 0
	stale := rj.DeepCopy()
	err = operation.UpdateStatus(ctx, c, c, client.ObjectKeyFromObject(rj), stale, func() bool {
		calls++
		if stale.Status.Step != odoov1alpha2.RestoreStepLoad {
			t.Errorf("change saw step %q, not the stored one", stale.Status.Step)
		}
		stale.Status.Message = "loading, seen fresh"
		return true
	})
	if err != nil || calls != 1 {
		t.Fatalf("UpdateStatus: %v after %d calls", err, calls)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rj), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status.Message != "loading, seen fresh" || stored.Status.Step != odoov1alpha2.RestoreStepLoad {
		t.Fatalf("stored status %+v", stored.Status)
	}
}

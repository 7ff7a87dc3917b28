package operation_test

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

const (
	restore = odoov1alpha2.OperationRestore
	backup  = odoov1alpha2.OperationBackup
)

// instance creates an initialised instance in a namespace of its own and
// returns it as stored.
func instance(t *testing.T, g Gomega, mods ...func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "lock-"}}
	g.Expect(admin.Create(ctx, ns)).To(Succeed())
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns.Name},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", AdminPassword: "pw"},
	}
	g.Expect(admin.Create(ctx, inst)).To(Succeed())
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Name: "shop", Initialized: true}
	for _, m := range mods {
		m(inst)
	}
	g.Expect(admin.Status().Update(ctx, inst)).To(Succeed())
	return stored(g, inst)
}

func stored(g Gomega, inst *odoov1alpha2.OdooInstance) *odoov1alpha2.OdooInstance {
	got := &odoov1alpha2.OdooInstance{}
	g.Expect(admin.Get(context.Background(), client.ObjectKeyFromObject(inst), got)).To(Succeed())
	return got
}

// TestLockTheSecondOfTwoWritersOnOneReadWaits: two controllers read the
// same free lock; the first takes it, the second's write meets the
// resourceVersion precondition, re-reads and waits for the first.
func TestLockTheSecondOfTwoWritersOnOneReadWaits(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	inst := instance(t, g)
	a, b := inst.DeepCopy(), inst.DeepCopy()

	d, err := operation.Acquire(ctx, k8s, a, restore, "a")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Go()).To(BeTrue())
	g.Expect(d.Recorded).To(BeTrue())

	d, err = operation.Acquire(ctx, k8s, b, restore, "b")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Verdict).To(Equal(operation.Wait))
	g.Expect(d.Message).To(Equal("waiting for the restore a to end"))
	g.Expect(b.Status.Operation).NotTo(BeNil(), "b re-read the instance")
	g.Expect(stored(g, inst).Status.Operation.Name).To(Equal("a"))
}

// TestLockConcurrentAcquiresOneWins: many goroutines, each from the same
// read, ask for the free lock at once: exactly one gets it, every run.
func TestLockConcurrentAcquiresOneWins(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	for run := range 5 {
		inst := instance(t, g)
		names := []string{"r0", "r1", "r2", "r3"}
		winners := make(chan string, len(names))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, name := range names {
			wg.Add(1)
			go func(mine *odoov1alpha2.OdooInstance) {
				defer wg.Done()
				<-start
				d, err := operation.Acquire(ctx, k8s, mine, restore, name)
				if err == nil && d.Go() {
					winners <- name
				}
			}(inst.DeepCopy())
		}
		close(start)
		wg.Wait()
		close(winners)
		var won []string
		for w := range winners {
			won = append(won, w)
		}
		g.Expect(won).To(HaveLen(1), "run %d: winners %v", run, won)
		g.Expect(stored(g, inst).Status.Operation.Name).To(Equal(won[0]))
	}
}

// TestLockIsReentrantAndKeepsItsStep: the holder, after a restart (a fresh
// read), finds its record and goes on; SetStep records its step; another
// operation's Release leaves it; its own Release frees it.
func TestLockIsReentrantAndKeepsItsStep(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	inst := instance(t, g)
	d, err := operation.SetStep(ctx, k8s, inst, restore, "r", "Load")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Go()).To(BeTrue())
	first := stored(g, inst).Status.Operation
	g.Expect(first.Step).To(Equal("Load"))

	again := stored(g, inst)
	d, err = operation.Acquire(ctx, k8s, again, restore, "r")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Go()).To(BeTrue())
	g.Expect(d.Recorded).To(BeTrue())
	g.Expect(stored(g, inst).Status.Operation).To(Equal(first), "re-entry writes nothing")

	_, err = operation.SetStep(ctx, k8s, again, restore, "r", "Swap")
	g.Expect(err).NotTo(HaveOccurred())
	now := stored(g, inst).Status.Operation
	g.Expect(now.Step).To(Equal("Swap"))
	g.Expect(now.Started).To(Equal(first.Started), "the start of the operation stays")

	g.Expect(operation.Release(ctx, k8s, stored(g, inst), backup, "r")).To(Succeed())
	g.Expect(operation.Release(ctx, k8s, stored(g, inst), restore, "other")).To(Succeed())
	g.Expect(stored(g, inst).Status.Operation).NotTo(BeNil(), "only the holder releases")
	g.Expect(operation.Release(ctx, k8s, stored(g, inst), restore, "r")).To(Succeed())
	g.Expect(stored(g, inst).Status.Operation).To(BeNil())
}

func record(kind odoov1alpha2.OperationKind, name string, age time.Duration) func(*odoov1alpha2.OdooInstance) {
	return func(inst *odoov1alpha2.OdooInstance) {
		inst.Status.Operation = &odoov1alpha2.OperationStatus{Kind: kind, Name: name, Started: metav1.NewTime(time.Now().Add(-age))}
	}
}

// TestLockStaleRecordsAreTakenOver: a Backup record whose OdooBackupJob is
// gone (older than the grace) or finished is released by the next
// acquirer; a record younger than the grace whose owner the cache may not
// show yet, and a running owner's, hold.
func TestLockStaleRecordsAreTakenOver(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()

	gone := instance(t, g, record(backup, "deleted", time.Minute))
	d, err := operation.Acquire(ctx, k8s, gone, restore, "r")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Go()).To(BeTrue(), "the deleted backup's record is released: %s", d.Message)
	g.Expect(stored(g, gone).Status.Operation.Name).To(Equal("r"))

	young := instance(t, g, record(backup, "not-cached-yet", time.Second))
	d, err = operation.Acquire(ctx, k8s, young, restore, "r")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Verdict).To(Equal(operation.Wait), "within the grace a missing owner still holds")

	for phase, free := range map[odoov1alpha2.JobPhase]bool{odoov1alpha2.JobCompleted: true, odoov1alpha2.JobFailed: true, odoov1alpha2.JobRunning: false} {
		inst := instance(t, g, record(backup, "b", time.Second))
		b := &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: inst.Namespace},
			Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
				Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}},
		}
		g.Expect(admin.Create(ctx, b)).To(Succeed())
		b.Status.Phase = phase
		g.Expect(admin.Status().Update(ctx, b)).To(Succeed())
		d, err := operation.Acquire(ctx, k8s, inst, restore, "r")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Go()).To(Equal(free), "backup %s", phase)
	}
}

// TestLockTheRestorePointRunsInsideItsUpgrade: the backup an upgrade in
// flight names as its restore point goes on under the upgrade's record,
// which stays; any other backup waits.
func TestLockTheRestorePointRunsInsideItsUpgrade(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	inst := instance(t, g, record(odoov1alpha2.OperationUpgrade, "shop", 0), func(inst *odoov1alpha2.OdooInstance) {
		inst.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Step: odoov1alpha2.UpgradeStepRestorePoint, RestorePointBackup: "shop-rp"}
	})
	d, err := operation.Acquire(ctx, k8s, inst, backup, "shop-rp")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Go()).To(BeTrue())
	g.Expect(d.Recorded).To(BeFalse())
	g.Expect(stored(g, inst).Status.Operation.Kind).To(Equal(odoov1alpha2.OperationUpgrade))

	d, err = operation.Acquire(ctx, k8s, inst, backup, "manual")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Verdict).To(Equal(operation.Wait))
	g.Expect(d.Message).To(Equal("waiting for the instance's upgrade to end (step RestorePoint)"))
}

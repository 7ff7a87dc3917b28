package stagingrefresh_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/controller/stagingrefresh"
	"github.com/odoo-operator/odoo-operator/internal/testutil/operatorenv"
)

// production is a Production instance backed up to the claim "backups".
func production(ns string) *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: operatorenv.OldImage, AdminPassword: "pw", Environment: odoov1alpha2.EnvironmentProduction,
			Backup: odoov1alpha2.BackupSpec{Destination: &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}},
		},
	}
}

// staging is a Staging instance naming shop as its production.
func staging(ns, name string) *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: operatorenv.OldImage, AdminPassword: "pw", Environment: odoov1alpha2.EnvironmentStaging,
			ProductionInstanceRef: &odoov1alpha2.ProductionInstanceRef{Name: "shop"},
		},
	}
}

func refreshOf(g Gomega, ns, name string) *odoov1alpha2.OdooStagingRefreshJob {
	sr := &odoov1alpha2.OdooStagingRefreshJob{}
	operatorenv.Get(g, ns, name, sr)
	return sr
}

// finish plays a child's controller to the end: the phase (and, for a
// backup, the object key) the real one would record. The child's own
// controller may write first; once finished it leaves it alone.
func finish(g Gomega, obj client.Object, set func() bool) {
	ctx := context.Background()
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		if set() {
			g.Expect(k8s.Status().Update(ctx, obj)).To(Succeed())
		}
	}, eventually, poll).Should(Succeed())
}

func labelled(g Gomega, ns, refresh string, list client.ObjectList) {
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{odoov1alpha2.LabelStagingRefresh: refresh})).To(Succeed())
}

// TestStagingCreatedAndRefreshed: a staging instance naming production gets
// its first refresh once its own database is initialised: one OdooBackupJob
// of production (owned by the refresh, to production's destination), then
// one OdooRestoreJob into staging from that backup (neutralize and
// keepPreviousDatabase true), under staging's lock (StagingRefresh, handed
// to the restore); the refresh completes with the restore. The first
// refresh is asked once (deleting it does not bring it back); each value
// of the annotation asks one more.
func TestStagingCreatedAndRefreshed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := operatorenv.NewNamespace(t)
	operatorenv.CreateBackupsClaim(g, ns)
	operatorenv.Converge(t, g, ns, production(ns))
	stg := staging(ns, "staging")
	g.Expect(k8s.Create(ctx, stg)).To(Succeed())

	// Asked at creation, waiting for staging's own init.
	g.Eventually(func(g Gomega) {
		sr := refreshOf(g, ns, "staging-initial")
		g.Expect(sr.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(sr.Status.Message).To(ContainSubstring("waiting for the instance's database to be initialised"))
		g.Expect(sr.OwnerReferences).To(ConsistOf(HaveField("Name", "staging")))
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { operatorenv.CompleteInit(g, ns, "staging") }, eventually, poll).Should(Succeed())

	// Step Backup: staging's lock, then production's backup.
	b := &odoov1alpha2.OdooBackupJob{}
	g.Eventually(func(g Gomega) {
		operatorenv.Get(g, ns, "staging-initial-backup", b)
		sr := refreshOf(g, ns, "staging-initial")
		g.Expect(sr.Status.Step).To(Equal(odoov1alpha2.StagingRefreshStepBackup))
		inst := &odoov1alpha2.OdooInstance{}
		operatorenv.Get(g, ns, "staging", inst)
		g.Expect(inst.Status.Operation).To(HaveField("Kind", odoov1alpha2.OperationStagingRefresh))
		g.Expect(inst.Status.Operation).To(HaveField("Name", "staging-initial"))
	}, eventually, poll).Should(Succeed())
	g.Expect(b.Spec.OdooInstanceRef.Name).To(Equal("shop"))
	g.Expect(b.Spec.Destination.PVC).To(Equal(&odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop/staging-initial-backup.zip"}))
	g.Expect(b.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooStagingRefreshJob")))

	finish(g, b, func() bool {
		if b.Status.Phase == odoov1alpha2.JobCompleted {
			return false
		}
		now := metav1.Now()
		b.Status.Phase, b.Status.ObjectKey, b.Status.CompletionTime = odoov1alpha2.JobCompleted, "shop/ns/shop-uid/staging-initial-backup-uid.zip", &now
		return true
	})

	// Step Restore: from the recorded key, neutralized, previous kept.
	rj := &odoov1alpha2.OdooRestoreJob{}
	g.Eventually(func(g Gomega) { operatorenv.Get(g, ns, "staging-initial-restore", rj) }, eventually, poll).Should(Succeed())
	g.Expect(rj.Spec.OdooInstanceRef.Name).To(Equal("staging"))
	g.Expect(rj.Spec.Source.Type).To(Equal(odoov1alpha2.RestoreSourcePVC))
	g.Expect(rj.Spec.Source.PVC).To(Equal(&odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop/ns/shop-uid/staging-initial-backup-uid.zip"}))
	g.Expect(rj.Spec.Neutralize).To(Equal(ptr.To(true)))
	g.Expect(rj.Spec.KeepPreviousDatabase).To(Equal(ptr.To(true)))
	finish(g, rj, func() bool {
		if rj.Status.Phase == odoov1alpha2.JobCompleted {
			return false
		}
		now := metav1.Now()
		rj.Status.Phase, rj.Status.KeptDatabase, rj.Status.CompletionTime = odoov1alpha2.JobCompleted, "kept_db", &now
		return true
	})

	g.Eventually(func(g Gomega) {
		sr := refreshOf(g, ns, "staging-initial")
		g.Expect(sr.Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		g.Expect(sr.Status.KeptDatabase).To(Equal("kept_db"))
		inst := &odoov1alpha2.OdooInstance{}
		operatorenv.Get(g, ns, "staging", inst)
		g.Expect(inst.Status.Operation).To(BeNil())
		g.Expect(inst.Annotations).To(HaveKeyWithValue(odoov1alpha2.AnnotationStagingInitialRefresh, "staging-initial"))
	}, eventually, poll).Should(Succeed())
	backups, restores := &odoov1alpha2.OdooBackupJobList{}, &odoov1alpha2.OdooRestoreJobList{}
	labelled(g, ns, "staging-initial", backups)
	labelled(g, ns, "staging-initial", restores)
	g.Expect(backups.Items).To(HaveLen(1))
	g.Expect(restores.Items).To(HaveLen(1))

	// The first refresh is asked once.
	g.Expect(k8s.Delete(ctx, refreshOf(g, ns, "staging-initial"))).To(Succeed())
	g.Consistently(func(g Gomega) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "staging-initial"}, &odoov1alpha2.OdooStagingRefreshJob{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the first refresh was asked again: %v", err)
	}, 2*time.Second, poll).Should(Succeed())

	// The annotation asks one refresh per value.
	operatorenv.Get(g, ns, "staging", stg)
	patch := client.MergeFrom(stg.DeepCopy())
	stg.Annotations[odoov1alpha2.AnnotationRefreshStaging] = "monday"
	g.Expect(k8s.Patch(ctx, stg, patch)).To(Succeed())
	name := stagingrefresh.AnnotatedRefreshName(stg, "monday")
	g.Expect(name).To(HavePrefix("staging-refresh-"))
	g.Eventually(func(g Gomega) {
		sr := refreshOf(g, ns, name)
		g.Expect(sr.Spec.Source.InstanceName).To(Equal("shop"))
		g.Expect(sr.Spec.OdooInstanceRef.Name).To(Equal("staging"))
	}, eventually, poll).Should(Succeed())
}

// TestStagingRefreshRefusals: what a refresh must never do is refused
// before anything is created, with the reason and the field.
func TestStagingRefreshRefusals(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := operatorenv.NewNamespace(t)
	operatorenv.CreateBackupsClaim(g, ns)
	shop := production(ns)
	operatorenv.Converge(t, g, ns, shop)

	t.Run("productionInstanceRef requires environment Staging", func(t *testing.T) {
		g := NewWithT(t)
		for _, env := range []odoov1alpha2.Environment{odoov1alpha2.EnvironmentProduction, ""} {
			inst := staging(ns, "not-staging")
			inst.Spec.Environment = env
			err := k8s.Create(ctx, inst)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring("spec.productionInstanceRef requires spec.environment: Staging"))
		}
	})

	// The attack: a refresh into production itself, and one into a
	// "staging" set on production's database; production keeps its lock
	// free and no backup or restore is created.
	for _, tc := range []struct {
		name, target, source, want string
		setup                      func(g Gomega)
	}{
		{name: "into production itself", target: "shop", source: "other", want: "the target OdooInstance shop is not spec.environment Staging",
			setup: func(g Gomega) {
				other := staging(ns, "other")
				other.Spec.ProductionInstanceRef = nil
				g.Expect(k8s.Create(ctx, other)).To(Succeed())
			}},
		{name: "a staging on production's database", target: "twin", source: "shop", want: "would swap staging onto production's database",
			setup: func(g Gomega) {
				twin := staging(ns, "twin")
				twin.Spec.Database.Name = shop.Status.Database.Name
				twin.Annotations = map[string]string{odoov1alpha2.AnnotationStagingInitialRefresh: "none"}
				g.Expect(k8s.Create(ctx, twin)).To(Succeed())
			}},
		{name: "from the staging itself", target: "shop", source: "shop", want: "spec.source.instanceName names the staging instance itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			if tc.setup != nil {
				tc.setup(g)
			}
			name := "refuse-" + strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", "-"), "'", "")
			g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooStagingRefreshJob{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: odoov1alpha2.OdooStagingRefreshJobSpec{
					OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: tc.target},
					Source:          odoov1alpha2.StagingSource{InstanceName: tc.source},
				},
			})).To(Succeed())
			g.Eventually(func(g Gomega) {
				sr := refreshOf(g, ns, name)
				g.Expect(sr.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
				g.Expect(sr.Status.Message).To(ContainSubstring(tc.want))
				g.Expect(sr.Status.Conditions).To(ContainElement(And(HaveField("Type", odoov1alpha2.ConditionReady), HaveField("Reason", odoov1alpha2.ReasonStagingRefreshRefused))))
			}, eventually, poll).Should(Succeed())
			backups, restores := &odoov1alpha2.OdooBackupJobList{}, &odoov1alpha2.OdooRestoreJobList{}
			labelled(g, ns, name, backups)
			labelled(g, ns, name, restores)
			g.Expect(backups.Items).To(BeEmpty())
			g.Expect(restores.Items).To(BeEmpty())
			prod := &odoov1alpha2.OdooInstance{}
			operatorenv.Get(g, ns, "shop", prod)
			g.Expect(prod.Status.Operation).To(BeNil())
		})
	}
}

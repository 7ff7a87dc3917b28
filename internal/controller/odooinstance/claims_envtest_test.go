package odooinstance_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestRecreatedInstanceTakesUpItsRetainedMigratedClaim: an instance deleted
// with deletionPolicy Retain after a storage class migration had moved its
// filestore to <name>-filestore-<hash> left that claim marked for its name;
// the instance re-created under that name uses it, not a new empty default
// claim. A claim carrying the mark for another name is not taken.
func TestRecreatedInstanceTakesUpItsRetainedMigratedClaim(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	claim := func(name, markedFor, instanceLabel string) *corev1.PersistentVolumeClaim {
		labels := resources.Labels(inst, "filestore")
		labels[odoov1alpha2.LabelInstance] = instanceLabel
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels,
				Annotations: map[string]string{odoov1alpha2.AnnotationRetainedFilestore: markedFor}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: inst.StorageSize()}},
			},
		}
	}
	// Another instance's retained claim, and a claim labelled for this name
	// but marked for another: neither is this instance's.
	g.Expect(k8s.Create(ctx, claim("other-filestore-0123abcd", "other", "other"))).To(Succeed())
	g.Expect(k8s.Create(ctx, claim("pneumac-staging-filestore-99999999", "other", inst.Name))).To(Succeed())
	g.Expect(k8s.Create(ctx, claim("pneumac-staging-filestore-1234abcd", inst.Name, inst.Name))).To(Succeed())

	converge(t, g, ns, inst)
	g.Expect(inst.Status.Filestore).NotTo(BeNil())
	g.Expect(inst.Status.Filestore.ClaimName).To(Equal("pneumac-staging-filestore-1234abcd"))
	err := k8s.Get(ctx, key(ns, resources.FilestorePVCName(inst)), &corev1.PersistentVolumeClaim{})
	g.Expect(err).To(HaveOccurred(), "no new empty default claim is created beside the retained one")
}

// TestDeletionPolicyDeleteNamesDatabasesItDidNotMake: deletionPolicy Delete
// drops the instance's database, but a database its role owns that the
// operator did not make is kept, named in a DatabaseLeftover Warning event,
// and keeps the role.
func TestDeletionPolicyDeleteNamesDatabasesItDidNotMake(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	inst.Spec.DeletionPolicy = odoov1alpha2.DeletionPolicyDelete
	converge(t, g, ns, inst)
	db, role := inst.Status.Database.Name, "odoo."+ns+".pneumac-staging"
	foreign := db + "_accounting"
	adminExec(g, fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{foreign}.Sanitize(), pgx.Identifier{role}.Sanitize()))
	t.Cleanup(func() {
		g := NewWithT(t)
		adminExec(g, "DROP DATABASE IF EXISTS "+pgx.Identifier{foreign}.Sanitize())
		adminExec(g, "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})

	deleteAndWait(g, inst)
	g.Expect(databaseExists(g, db)).To(BeFalse(), "Delete drops the instance's database")
	g.Expect(databaseExists(g, foreign)).To(BeTrue(), "a database the operator did not make is kept")
	g.Expect(adminQuery(g, "SELECT rolname FROM pg_roles WHERE rolname = $1", role)).To(Equal(role), "the role owning it is kept")
	g.Eventually(func() []string { return eventNotes(g, ns, odoov1alpha2.EventDatabaseLeftover) }, eventually, poll).
		Should(ContainElement(And(ContainSubstring(foreign), ContainSubstring(role), ContainSubstring("drop them by hand"))))
}

package odooinstance_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// stalledReason is the reason of the instance's Stalled condition, "" when
// it is not stalled.
func stalledReason(g Gomega, ns, name string) (reason, message string) {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, name, inst)
	c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue {
		return "", ""
	}
	return c.Reason, c.Message
}

// poke changes an annotation of the instance so that it is reconciled now,
// as a user's edit would (a stalled instance is otherwise looked at again
// after a minute; PostgreSQL changes and unlabelled Secrets send no event).
func poke(g Gomega, ns, name string) {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, name, inst)
	patch := client.MergeFrom(inst.DeepCopy())
	if inst.Annotations == nil {
		inst.Annotations = map[string]string{}
	}
	inst.Annotations["test/poke"] = time.Now().Format(time.RFC3339Nano)
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
}

// TestForeignUserSecretIsNeverUsed: a tenant's <name>-odoo-user Secret naming
// another tenant's role, pre-created or edited into the operator's own, is
// refused (Stalled, reason named); the victim's password still works, its
// database keeps its owner, and deleting the attacker's instance with
// deletionPolicy Delete drops nothing of the victim's.
func TestForeignUserSecretIsNeverUsed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	victimNS := newNamespace(t)
	victim := pneumacStaging(victimNS)
	converge(t, g, victimNS, victim)
	victimDB, victimRole := victim.Status.Database.Name, "odoo."+victimNS+".pneumac-staging"

	ns := newNamespace(t)
	// 1. Pre-created before the instance.
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "thief-odoo-user", Namespace: ns},
		Data:       map[string][]byte{"username": []byte(victimRole), "password": []byte("attacker-chosen-password")},
	})).To(Succeed())
	thief := pneumacStaging(ns)
	thief.Name = "thief"
	thief.Spec.Ingress = nil
	thief.Spec.DeletionPolicy = odoov1alpha2.DeletionPolicyDelete
	thief.Spec.Database.Name = victimDB
	g.Expect(k8s.Create(ctx, thief)).To(Succeed())
	g.Eventually(func(g Gomega) {
		reason, msg := stalledReason(g, ns, "thief")
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseCredentialsRefused))
		g.Expect(msg).To(ContainSubstring("was not created by the operator for this OdooInstance"))
		g.Expect(msg).NotTo(ContainSubstring("attacker-chosen-password"))
	}, eventually, poll).Should(Succeed())
	g.Expect(loginAs(g, victimNS, victim.Name, victimDB)).To(Succeed(), "the victim's password must still work")
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", victimDB)).To(Equal(victimRole))
	conf := &corev1.Secret{}
	g.Expect(client.IgnoreNotFound(k8s.Get(ctx, key(ns, "thief-odoo-conf"), conf))).To(Succeed())
	g.Expect(string(conf.Data["odoo.conf"])).NotTo(ContainSubstring(victimRole), "the refused Secret must not reach odoo.conf")

	// 2. The operator's own Secret, with its username edited afterwards.
	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "thief-odoo-user", Namespace: ns}})).To(Succeed())
	poke(g, ns, "thief")
	own := &corev1.Secret{}
	g.Eventually(func(g Gomega) {
		get(g, ns, "thief-odoo-user", own)
		g.Expect(own.OwnerReferences).NotTo(BeEmpty())
		// The operator made it; the database name still points at the
		// victim's, which is never taken over.
		reason, _ := stalledReason(g, ns, "thief")
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseConflict))
	}, eventually, poll).Should(Succeed())
	own.Data["username"] = []byte(victimRole)
	own.Data["password"] = []byte("attacker-chosen-password")
	g.Expect(k8s.Update(ctx, own)).To(Succeed())
	g.Eventually(func(g Gomega) {
		reason, msg := stalledReason(g, ns, "thief")
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseCredentialsRefused))
		g.Expect(msg).To(ContainSubstring(`but this instance's role is always "odoo.` + ns + `.thief"`))
	}, eventually, poll).Should(Succeed())
	g.Expect(loginAs(g, victimNS, victim.Name, victimDB)).To(Succeed(), "the victim's password must still work")

	// 3. Deleting the attacker's instance with deletionPolicy Delete: its
	// database name is the victim's, which it does not own: nothing is
	// dropped, the deletion waits and says why.
	g.Expect(k8s.Delete(ctx, thief)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "thief", thief)
		c := meta.FindStatusCondition(thief.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDeletionFailed))
	}, eventually, poll).Should(Succeed())
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", victimDB)).To(Equal(victimRole),
		"the victim's database must survive")
	g.Expect(loginAs(g, victimNS, victim.Name, victimDB)).To(Succeed(), "the victim's role must survive with its password")
	patch := client.MergeFrom(thief.DeepCopy())
	thief.Spec.DeletionPolicy = odoov1alpha2.DeletionPolicyRetain
	g.Expect(k8s.Patch(ctx, thief, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key(ns, "thief"), &odoov1alpha2.OdooInstance{}))).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

// TestExistingDatabaseIsAdoptedOnlyWhenOwnedByTheRole: a database owned by
// the admin (another application's) is never taken over, the instance is
// Stalled saying how to opt in; once an administrator hands it to the
// instance's role, it is adopted. An initialised instance whose database
// stops being its own stalls without losing status.database.initialized.
func TestExistingDatabaseIsAdoptedOnlyWhenOwnedByTheRole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	app := "keycloak_" + ns
	adminQuery(g, `CREATE DATABASE "`+app+`"`)
	inst := pneumacStaging(ns)
	inst.Spec.Ingress = nil
	inst.Spec.Database.Name = app
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())
	role := "odoo." + ns + ".pneumac-staging"
	g.Eventually(func(g Gomega) {
		reason, msg := stalledReason(g, ns, inst.Name)
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseConflict))
		g.Expect(msg).To(ContainSubstring(`spec.database.name "` + app + `"`))
		g.Expect(msg).To(ContainSubstring("ALTER DATABASE"))
	}, eventually, poll).Should(Succeed())
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", app)).To(Equal(pg.AdminUser))

	// The opt-in: the administrator hands the database over.
	adminQuery(g, `CREATE ROLE "`+role+`" LOGIN`)
	adminQuery(g, `ALTER DATABASE "`+app+`" OWNER TO "`+role+`"`)
	poke(g, ns, inst.Name)
	g.Eventually(func(g Gomega) {
		completeInit(g, ns, inst.Name)
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Initialized).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	g.Expect(loginAs(g, ns, inst.Name, app)).To(Succeed())

	// The database stops being the instance's: Stalled, initialized kept.
	other := "other_" + ns
	adminQuery(g, `CREATE ROLE "`+other+`"`)
	adminQuery(g, `ALTER DATABASE "`+app+`" OWNER TO "`+other+`"`)
	g.Eventually(func(g Gomega) {
		// The verified state is trusted for the recheck interval (2 s here).
		poke(g, ns, inst.Name)
		reason, _ := stalledReason(g, ns, inst.Name)
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseConflict))
	}, eventually, time.Second).Should(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Initialized).To(BeTrue(), "a stalled reconcile must not drop status.database.initialized")
	}, "3s", poll).Should(Succeed())
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", app)).To(Equal(other))
}

// TestChangedDatabaseNameStallsWithoutLosingInitialized: spec.database.name
// set on a running instance (the webhook refuses it; envtest runs only the
// CEL rules, so this is what an object admitted before the webhook gets):
// Stalled, naming the fix, status.database.initialized kept; setting it to
// the name in use brings the instance back.
func TestChangedDatabaseNameStallsWithoutLosingInitialized(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	inst.Spec.Ingress = nil
	converge(t, g, ns, inst)
	inUse := inst.Status.Database.Name

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Database.Name = "keycloak"
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		reason, msg := stalledReason(g, ns, inst.Name)
		g.Expect(reason).To(Equal(odoov1alpha2.ReasonDatabaseNameChanged))
		g.Expect(msg).To(ContainSubstring(`set spec.database.name back to "` + inUse + `"`))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Initialized).To(BeTrue(), "a stalled reconcile must not drop status.database.initialized")
		g.Expect(inst.Status.Database.Name).To(Equal(inUse))
	}, "2s", poll).Should(Succeed())
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname = 'keycloak'")).To(BeEmpty())

	get(g, ns, inst.Name, inst)
	patch = client.MergeFrom(inst.DeepCopy())
	inst.Spec.Database.Name = inUse
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		reason, _ := stalledReason(g, ns, inst.Name)
		g.Expect(reason).To(BeEmpty())
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.ObservedGeneration).To(Equal(inst.Generation))
		g.Expect(inst.Status.Database.Initialized).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

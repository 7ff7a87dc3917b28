package odooinstance_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// roConnect logs in with the read-only Secret's credentials, as a BI tool
// would.
func roConnect(ctx context.Context, s *corev1.Secret) (*pgx.Conn, error) {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(string(s.Data["username"]), string(s.Data["password"])),
		Host: string(s.Data["host"]) + ":" + string(s.Data["port"]), Path: "/" + string(s.Data["database"]), RawQuery: "sslmode=disable"}
	return pgx.Connect(ctx, u.String())
}

// TestReadOnlySQLAccess: enabling spec.readOnlySqlAccess on a running
// instance gives the Secret <name>-odoo-ro, whose login reads the instance's
// tables and cannot write them; disabling it drops the role and deletes the
// Secret.
func TestReadOnlySQLAccess(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", AdminPassword: "x"},
	}
	converge(t, g, ns, inst)
	moduleSQL(g, inst.Status.Database.Name, `CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar); INSERT INTO res_partner (name) VALUES ('Azure Interior')`)

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.ReadOnlySQLAccess = &odoov1alpha2.ReadOnlySQLAccessSpec{Enabled: ptr.To(true), ConnectionLimit: ptr.To[int32](2)}
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	secret := &corev1.Secret{}
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop-odoo-ro", secret)
		conn, err := roConnect(ctx, secret)
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = conn.Close(ctx) }()
		var name string
		g.Expect(conn.QueryRow(ctx, "SELECT name FROM res_partner").Scan(&name)).To(Succeed())
		g.Expect(name).To(Equal("Azure Interior"))
	}, eventually, poll).Should(Succeed())
	g.Expect(string(secret.Data["username"])).To(HaveSuffix("_ro"))
	g.Expect(secret.OwnerReferences).To(ContainElement(HaveField("Name", "shop")))
	g.Expect(string(secret.Data["database"])).To(Equal(inst.Status.Database.Name))

	conn, err := roConnect(ctx, secret)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = conn.Exec(ctx, "SET default_transaction_read_only = off; UPDATE res_partner SET name = 'x'")
	g.Expect(err).To(HaveOccurred(), "the read-only login cannot write")
	_ = conn.Close(ctx)
	g.Expect(adminQuery(g, "SELECT rolconnlimit::text FROM pg_roles WHERE rolname = $1", string(secret.Data["username"]))).To(Equal("2"))

	get(g, ns, "shop", inst)
	patch = client.MergeFrom(inst.DeepCopy())
	inst.Spec.ReadOnlySQLAccess.Enabled = ptr.To(false)
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key(ns, "shop-odoo-ro"), &corev1.Secret{}))).To(BeTrue())
		g.Expect(adminQuery(g, "SELECT count(*)::text FROM pg_roles WHERE rolname = $1", string(secret.Data["username"]))).To(Equal("0"))
	}, eventually, poll).Should(Succeed())
}

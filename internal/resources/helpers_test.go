package resources

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

const (
	testName      = "shop"
	testNamespace = "prod"
	testUID       = types.UID("0b5f4c1e-6d0e-4c4f-9f4e-0123456789ab")
	testImage     = "odoo:18.0"
)

// newInstance is a minimal instance, as the API server would store it before
// defaulting; mutate adjusts it for one test case.
func newInstance(mutate ...func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNamespace, UID: testUID},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: testImage, AdminPassword: "master"},
	}
	for _, m := range mutate {
		if m != nil {
			m(inst)
		}
	}
	return inst
}

// convert turns an apply configuration into the typed object it describes, the
// way the API server reads the apply request body.
func convert[T any](t *testing.T, ac any) *T {
	t.Helper()
	raw, err := json.Marshal(ac)
	if err != nil {
		t.Fatalf("marshal apply configuration: %v", err)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("unmarshal into %T: %v", out, err)
	}
	return out
}

// expectOwnedBy checks the single controller reference to the instance.
func expectOwnedBy(g Gomega, refs []metav1.OwnerReference, inst *odoov1alpha2.OdooInstance) {
	g.Expect(refs).To(HaveLen(1))
	ref := refs[0]
	g.Expect(ref.APIVersion).To(Equal("bemade.org/v1alpha2"))
	g.Expect(ref.Kind).To(Equal("OdooInstance"))
	g.Expect(ref.Name).To(Equal(inst.Name))
	g.Expect(ref.UID).To(Equal(inst.UID))
	g.Expect(ref.Controller).To(HaveValue(BeTrue()))
	g.Expect(ref.BlockOwnerDeletion).To(HaveValue(BeTrue()))
}

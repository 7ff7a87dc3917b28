package odooinstance_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestRestoreHoldStopsWebAndCron: the annotation bemade.org/restore-hold,
// which a restore sets around its database swap, holds web and cron at 0
// replicas; removing it brings them back.
func TestRestoreHoldStopsWebAndCron(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	ctx := context.Background()
	setHold := func(value string) {
		get(g, ns, "shop", inst)
		patch := client.MergeFrom(inst.DeepCopy())
		if value == "" {
			delete(inst.Annotations, odoov1alpha2.AnnotationRestoreHold)
		} else {
			if inst.Annotations == nil {
				inst.Annotations = map[string]string{}
			}
			inst.Annotations[odoov1alpha2.AnnotationRestoreHold] = value
		}
		g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	}
	setHold("restore-1")
	g.Eventually(func(g Gomega) {
		_, web := deploymentImageReplicas(g, ns, "shop")
		_, cron := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(web).To(BeZero())
		g.Expect(cron).To(BeZero())
	}, eventually, poll).Should(Succeed())
	setHold("")
	g.Eventually(func(g Gomega) {
		_, web := deploymentImageReplicas(g, ns, "shop")
		_, cron := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(web).To(Equal(int32(2)))
		g.Expect(cron).To(Equal(int32(1)))
	}, eventually, poll).Should(Succeed())
}

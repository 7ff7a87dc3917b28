package conversion

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// NewOdooInitJobConverter builds the converter of OdooInitJob. Its v1alpha1 and
// v1alpha2 schemas are identical (TestInitJobSchemasIdentical), so conversion
// strategy None suffices; the converter makes strategy Webhook work too, for a
// CRD whose spec.conversion points at this webhook, and does what None does:
// the same JSON under the other apiVersion.
func NewOdooInitJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return crconversion.NewHubSpokeConverter(&odoov1alpha2.OdooInitJob{},
		crconversion.NewSpokeConverter(&odoov1alpha1.OdooInitJob{}, initJobHubToV1alpha1, initJobV1alpha1ToHub),
	)
}

func initJobV1alpha1ToHub(_ context.Context, src *odoov1alpha1.OdooInitJob, dst *odoov1alpha2.OdooInitJob) error {
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	dst.Spec, dst.Status = odoov1alpha2.OdooInitJobSpec{}, odoov1alpha2.OdooJobStatus{}
	if err := errors.Join(recode(src.Spec, &dst.Spec), recode(src.Status, &dst.Status)); err != nil {
		return fmt.Errorf("converting OdooInitJob %s/%s from v1alpha1: %w", src.Namespace, src.Name, err)
	}
	return nil
}

func initJobHubToV1alpha1(_ context.Context, src *odoov1alpha2.OdooInitJob, dst *odoov1alpha1.OdooInitJob) error {
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	dst.Spec, dst.Status = odoov1alpha1.OdooInitJobSpec{}, odoov1alpha1.OdooJobStatus{}
	if err := errors.Join(recode(src.Spec, &dst.Spec), recode(src.Status, &dst.Status)); err != nil {
		return fmt.Errorf("converting OdooInitJob %s/%s to v1alpha1: %w", src.Namespace, src.Name, err)
	}
	return nil
}

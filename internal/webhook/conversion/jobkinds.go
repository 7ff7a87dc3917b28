package conversion

import (
	"context"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"
)

// The job kinds (OdooInitJob, OdooUpgradeJob, OdooBackupJob, OdooRestoreJob) have identical v1alpha1 and
// v1alpha2 schemas; their converters do what conversion strategy None does.

// jobObject is a job kind: its metadata is a metav1.ObjectMeta.
type jobObject interface {
	client.Object
	GetObjectMeta() metav1.Object
}

// jobConverter builds the hub-and-spoke converter of a job kind.
func jobConverter[H, S jobObject](hub H, spoke S, toSpoke func(context.Context, H, S) error, toHub func(context.Context, S, H) error) func(*runtime.Scheme) (crconversion.Converter, error) {
	return crconversion.NewHubSpokeConverter(hub, crconversion.NewSpokeConverter(spoke, toSpoke, toHub))
}

// sameSchema returns the conversion of a job kind from type S to type D: the
// metadata is copied, the rest is recoded through its JSON into a zeroed D (its
// TypeMeta kept), so nothing of a reused destination survives.
func sameSchema[S, D jobObject](direction string) func(context.Context, S, D) error {
	return func(_ context.Context, src S, dst D) error {
		tree, err := toTree(src)
		if err == nil {
			delete(tree, "apiVersion")
			delete(tree, "kind")
			delete(tree, "metadata")
			gvk := dst.GetObjectKind().GroupVersionKind()
			reflect.ValueOf(dst).Elem().SetZero()
			err = fromTree(tree, dst)
			dst.GetObjectKind().SetGroupVersionKind(gvk)
		}
		if err != nil {
			return fmt.Errorf("converting %s %s/%s %s: %w", reflect.TypeOf(src).Elem().Name(), src.GetNamespace(), src.GetName(), direction, err)
		}
		srcMeta, ok := src.GetObjectMeta().(*metav1.ObjectMeta)
		dstMeta, ok2 := dst.GetObjectMeta().(*metav1.ObjectMeta)
		if !ok || !ok2 {
			return fmt.Errorf("converting %T to %T: metadata is not a metav1.ObjectMeta", src, dst)
		}
		*dstMeta = *srcMeta.DeepCopy()
		return nil
	}
}

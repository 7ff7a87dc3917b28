package stagingrefresh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Trigger creates the OdooStagingRefreshJobs a staging instance asks for:
// its first refresh when it names a production (spec.productionInstanceRef)
// and has never asked before, and one per value of the annotation
// bemade.org/refresh-staging. The refreshes are owned by the instance.
type Trigger struct {
	client.Client
	// Recorder emits the instance's StagingRefreshRequested events; nil emits none.
	Recorder recorder.EventRecorder
}

// Request is what the trigger does for an instance: the refreshes to
// create (at most two: the first one, and the annotation's) and whether to
// record the first one on the instance. Pure.
type Request struct {
	// Initial is the first refresh's name, "" when none is due.
	Initial string
	// Annotated is the annotation's refresh, "" when none.
	Annotated string
}

// Requests decides the refreshes of inst.
func Requests(inst *odoov1alpha2.OdooInstance) Request {
	ref := inst.Spec.ProductionInstanceRef
	if ref == nil || inst.DeletionTimestamp != nil || inst.Spec.Environment != odoov1alpha2.EnvironmentStaging {
		return Request{}
	}
	var req Request
	if inst.Annotations[odoov1alpha2.AnnotationStagingInitialRefresh] == "" {
		req.Initial = InitialRefreshName(inst)
	}
	if token := inst.Annotations[odoov1alpha2.AnnotationRefreshStaging]; token != "" {
		req.Annotated = AnnotatedRefreshName(inst, token)
	}
	return req
}

// InitialRefreshName is the first refresh of a staging instance.
func InitialRefreshName(inst *odoov1alpha2.OdooInstance) string {
	return refreshName(inst.Name, "-initial")
}

// AnnotatedRefreshName is the refresh the annotation's value token asks for:
// the same value always names the same refresh, so it runs once.
func AnnotatedRefreshName(inst *odoov1alpha2.OdooInstance, token string) string {
	sum := sha256.Sum256([]byte(token))
	return refreshName(inst.Name, "-refresh-"+hex.EncodeToString(sum[:])[:8])
}

// refreshName keeps the refresh's name short enough for its children's
// names (package operation shortens further when needed).
func refreshName(name, suffix string) string {
	if limit := 40 - len(suffix); len(name) > limit {
		name = name[:limit]
	}
	return name + suffix
}

// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch;patch

// Reconcile creates the refreshes an instance asks for.
func (t *Trigger) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	inst := &odoov1alpha2.OdooInstance{}
	if err := t.Get(ctx, req.NamespacedName, inst); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r := Requests(inst)
	if r.Annotated != "" {
		if err := t.create(ctx, inst, r.Annotated, "the annotation "+odoov1alpha2.AnnotationRefreshStaging); err != nil {
			return ctrl.Result{}, err
		}
	}
	if r.Initial == "" {
		return ctrl.Result{}, nil
	}
	if err := t.create(ctx, inst, r.Initial, "its creation"); err != nil {
		return ctrl.Result{}, err
	}
	// Recorded after the refresh exists: a restart in between creates
	// nothing new (the name is deterministic), and once recorded no first
	// refresh is asked again, even if the OdooStagingRefreshJob is deleted.
	patch := client.MergeFrom(inst.DeepCopy())
	if inst.Annotations == nil {
		inst.Annotations = map[string]string{}
	}
	inst.Annotations[odoov1alpha2.AnnotationStagingInitialRefresh] = r.Initial
	return ctrl.Result{}, client.IgnoreNotFound(t.Patch(ctx, inst, patch))
}

func (t *Trigger) create(ctx context.Context, inst *odoov1alpha2.OdooInstance, name, why string) error {
	sr := &odoov1alpha2.OdooStagingRefreshJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: inst.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(inst, odoov1alpha2.GroupVersion.WithKind("OdooInstance"))},
		},
		Spec: odoov1alpha2.OdooStagingRefreshJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name},
			Source:          odoov1alpha2.StagingSource{InstanceName: inst.Spec.ProductionInstanceRef.Name},
		},
	}
	err := t.Create(ctx, sr)
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		return fmt.Errorf("creating the OdooStagingRefreshJob %s: %w", name, err)
	}
	if t.Recorder != nil {
		t.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventStagingRefreshRequested, "StagingRefresh",
			"OdooStagingRefreshJob %s created for %s", name, why)
	}
	return nil
}

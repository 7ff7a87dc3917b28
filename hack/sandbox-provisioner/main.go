// Command sandbox-provisioner binds PersistentVolumeClaims in the sandbox
// cluster, which has no storage driver: for every pending claim it creates a
// hostPath PersistentVolume pre-bound to it, with the claim's class, size and
// access modes, and deletes the volume once its claim is gone. Without it the
// scheduler would keep every Odoo pod Pending on its unbound filestore claim.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

const provisionedBy = "sandbox.odoo-operator.dev/provisioned-for"

type binder struct {
	client.Client
	root string
}

func (b *binder) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := b.Get(ctx, req.NamespacedName, pvc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pvc.Spec.VolumeName != "" || !pvc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	name := "pv-" + string(pvc.UID)
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{provisionedBy: "true"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			// One directory per claim (its uid): a claim recreated with the
			// same name starts empty, as with a real provisioner, now that
			// hack/sandbox-jobplayer writes real backups into them.
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: filepath.Join(b.root, pvc.Namespace, pvc.Name+"-"+string(pvc.UID)),
			}},
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
		},
	}
	if err := b.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// releaser deletes volumes whose claim was deleted.
type releaser struct{ client.Client }

func (r *releaser) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pv := &corev1.PersistentVolume{}
	if err := r.Get(ctx, req.NamespacedName, pv); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pv.Labels[provisionedBy] != "true" || pv.Spec.ClaimRef == nil {
		return ctrl.Result{}, nil
	}
	claim := &corev1.PersistentVolumeClaim{}
	err := r.Get(ctx, types.NamespacedName{Namespace: pv.Spec.ClaimRef.Namespace, Name: pv.Spec.ClaimRef.Name}, claim)
	if apierrors.IsNotFound(err) || (err == nil && claim.UID != pv.Spec.ClaimRef.UID) {
		return ctrl.Result{}, client.IgnoreNotFound(r.Delete(ctx, pv))
	}
	return ctrl.Result{}, err
}

func main() {
	root := flag.String("root", os.TempDir(), "directory the hostPath volumes point into (hack/sandbox-jobplayer writes there)")
	flag.Parse()
	ctrl.SetLogger(zap.New())
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{Metrics: metricsserver.Options{BindAddress: "0"}})
	if err == nil {
		err = ctrl.NewControllerManagedBy(mgr).Named("binder").For(&corev1.PersistentVolumeClaim{}).Complete(&binder{Client: mgr.GetClient(), root: *root})
	}
	if err == nil {
		err = ctrl.NewControllerManagedBy(mgr).Named("releaser").For(&corev1.PersistentVolume{}).Complete(&releaser{Client: mgr.GetClient()})
	}
	if err == nil {
		err = mgr.Start(ctrl.SetupSignalHandler())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

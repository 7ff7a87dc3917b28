// Package conversion is the CRD conversion webhook of the bemade.org kinds.
//
// OdooInstance is served at v1 and v1alpha1 (the legacy schema, deprecated) and
// at v1alpha2, the hub and storage version. Conversion is hub-and-spoke with
// controller-runtime's conversion.NewHubSpokeConverter, so api/ stays free of
// controller-runtime. It is lossless in both directions:
//
//   - A spoke field the hub cannot represent (spec.sync, the startup and
//     liveness probe paths, legacy status fields, legacy phases, ...) is stored
//     on the hub in the annotation bemade.org/conversion-data and restored when
//     the object is read through a spoke again.
//   - A hub field the spoke cannot represent (workers, autoUpgrade, status.health,
//     ...) is stored on the spoke in the same annotation and restored when the
//     spoke is written back.
//   - Every stored value carries the value the other side converted to when it
//     was stored. It is restored only while the object still converts to that
//     value, so a change made through either version wins over the stash.
//   - Up-conversion fills what the legacy schema left implicit: the database
//     cluster, the filestore StorageClass, the probe endpoint and the legacy
//     Recreate strategy, plus the hub's schema defaults. Those fills are recorded
//     like any other spoke-side difference, so reading an object back through
//     the spoke returns what was written there.
//   - The API server applies a spoke's schema defaults to every object written
//     through that spoke. Down-conversion lists, in the annotation, the defaulted
//     spoke fields that were absent and would change the hub; up-conversion
//     drops them again while they still hold the default value.
//
// OdooInitJob, OdooUpgradeJob, OdooBackupJob and OdooRestoreJob have identical
// v1alpha1 and v1alpha2 schemas:
// with conversion strategy None the API server only rewrites apiVersion. Their
// converters do the same, so that the CRDs may also point spec.conversion at
// this webhook.
package conversion

import (
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Values filled by up-conversion when Options leaves them empty. They are the
// ones the legacy operator used implicitly, per the roadmap's conversion plan.
const (
	// DefaultClusterName is the clusters Secret entry legacy instances without
	// spec.database.cluster used.
	DefaultClusterName = "default"
	// DefaultStorageClassName is the StorageClass the legacy operator hard-coded
	// for filestores before spec.filestore.storageClass existed.
	DefaultStorageClassName = "cephfs"
)

// Options configures the values up-conversion fills in for fields the legacy
// schema left implicit.
type Options struct {
	// DefaultCluster is written into spec.database.cluster of legacy objects
	// that have none. Empty means DefaultClusterName ("default").
	DefaultCluster string
	// DefaultStorageClass is written into spec.filestore.storageClass of legacy
	// objects that have none. Empty means DefaultStorageClassName ("cephfs").
	DefaultStorageClass string
}

func (o Options) cluster() string {
	if o.DefaultCluster == "" {
		return DefaultClusterName
	}
	return o.DefaultCluster
}

func (o Options) storageClass() string {
	if o.DefaultStorageClass == "" {
		return DefaultStorageClassName
	}
	return o.DefaultStorageClass
}

// SetupWebhookWithManager registers the converters of OdooInstance,
// OdooInitJob, OdooUpgradeJob, OdooBackupJob, OdooRestoreJob and OdooStagingRefreshJob on the manager's /convert endpoint. The
// manager's scheme must know OdooInstance at v1, v1alpha1 and v1alpha2 and the
// job kinds at v1alpha1 and v1alpha2 (odoov1.AddToScheme,
// odoov1alpha1.AddToScheme, odoov1alpha2.AddToScheme). The CRDs'
// spec.conversion (strategy Webhook and its clientConfig) is set elsewhere.
func SetupWebhookWithManager(mgr ctrl.Manager, opts Options) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooInstance{}).
		WithConverter(NewOdooInstanceConverter(opts)).
		Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooInitJob{}).
		WithConverter(NewOdooInitJobConverter()).
		Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooUpgradeJob{}).
		WithConverter(NewOdooUpgradeJobConverter()).
		Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooBackupJob{}).
		WithConverter(NewOdooBackupJobConverter()).
		Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooRestoreJob{}).
		WithConverter(NewOdooRestoreJobConverter()).
		Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooStagingRefreshJob{}).
		WithConverter(NewOdooStagingRefreshJobConverter()).
		Complete()
}

// NewOdooInstanceConverter builds the hub-and-spoke converter of OdooInstance
// for a scheme that knows all its versions.
func NewOdooInstanceConverter(opts Options) func(*runtime.Scheme) (crconversion.Converter, error) {
	c := &instanceConverter{opts: opts}
	return crconversion.NewHubSpokeConverter(&odoov1alpha2.OdooInstance{},
		crconversion.NewSpokeConverter(&odoov1alpha1.OdooInstance{}, c.hubToV1alpha1, c.v1alpha1ToHub),
		crconversion.NewSpokeConverter(&odoov1.OdooInstance{}, c.hubToV1, c.v1ToHub),
	)
}

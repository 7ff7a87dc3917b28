// Package storagemigration rewrites every stored object of the operator's
// CRDs at the current storage version, then trims the CRD's
// status.storedVersions to that version alone. Only then can a later
// release drop an old version from the CRD: the API server refuses to
// remove a version still listed in storedVersions, and objects still
// encoded in it would become unreadable.
//
// It does what Kubernetes' storage version migrator and Cluster API's
// crdmigrator do: for each object, an empty server-side apply carrying the
// object's UID and resourceVersion. The API server decodes the stored
// object, re-encodes it at the storage version and writes it only if the
// bytes differ, so an object already at the storage version costs a request
// but no write.
package storagemigration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Defaults of a Migrator.
const (
	DefaultPageSize      = 500
	DefaultFieldOwner    = "odoo-operator-storage-migrator"
	DefaultMaxRetryDelay = 5 * time.Minute
	firstRetryDelay      = time.Second
	// maxPasses bounds the passes of one Migrate when the CRD keeps
	// changing under it; Start retries later.
	maxPasses = 3
)

// Event reasons.
const (
	ReasonStorageVersionMigrated = "StorageVersionMigrated"
	ReasonStorageMigrationFailed = "StorageVersionMigrationFailed"
)

var crdGVK = apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition")

// Migrator migrates the stored objects of CRDNames, once, after the manager
// starts. It runs on the leader only (two migrators would only double the
// writes) and returns when every CRD is done; errors are retried with
// backoff until then, never returned to the manager.
type Migrator struct {
	// Client writes: the empty applies and the storedVersions patch.
	Client client.Client
	// APIReader reads the CRDs and lists the objects (mgr.GetAPIReader()).
	// A cached client would start an informer on every CRD of the cluster,
	// and on each kind's metadata, to read them once. Nil means Client.
	APIReader client.Reader
	// CRDNames are the CRDs to migrate, e.g. odooinstances.bemade.org.
	CRDNames []string
	// Recorder, when set, records an Event on each CRD migrated.
	Recorder events.EventRecorder
	// PageSize is the number of objects listed per request.
	PageSize int64
	// FieldOwner is the field manager of the empty applies. They own no
	// field, so it never shows up in managedFields.
	FieldOwner string
	// MaxRetryDelay caps the backoff between failed attempts.
	MaxRetryDelay time.Duration
}

var _ manager.LeaderElectionRunnable = &Migrator{}

// Result is what one Migrate did.
type Result struct {
	CRD            string
	StorageVersion string
	// StoredVersions before and after; equal when nothing was to do.
	StoredBefore, StoredAfter []string
	// Objects is the number of objects applied, Rewritten the number the
	// API server actually re-encoded (their resourceVersion changed).
	Objects, Rewritten int
	// Pages is the number of list requests of the last pass.
	Pages int
	// Passes is the number of passes: more than one when the CRD changed
	// during the migration.
	Passes int
}

// NeedLeaderElection is true: one migrator at a time is enough.
func (m *Migrator) NeedLeaderElection() bool { return true }

// Start migrates every CRD of CRDNames, retrying the failed ones with a
// jittered exponential backoff, and returns nil once all are done or ctx
// ends.
func (m *Migrator) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("storage-migration")
	pending := slices.Clone(m.CRDNames)
	for failures := 0; len(pending) > 0; failures++ {
		var failed []string
		for _, name := range pending {
			if _, err := m.Migrate(ctx, name); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Error(err, "storage version migration failed; will retry", "crd", name)
				failed = append(failed, name)
			}
		}
		pending = failed
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.retryDelay(failures)):
		}
	}
	return nil
}

// Migrate migrates one CRD: rewrite every object, then trim storedVersions
// with the resourceVersion of the CRD read before the rewrite. If the CRD
// changed meanwhile (a new storage version may have written objects the
// pass did not cover), the patch conflicts and the pass starts over; the
// rewrite is idempotent, so a pass cut short by a restart is simply redone.
// With storedVersions already [storage] it reads the CRD and writes nothing.
func (m *Migrator) Migrate(ctx context.Context, crdName string) (Result, error) {
	res := Result{CRD: crdName}
	for res.Passes < maxPasses {
		res.Passes++
		done, err := m.pass(ctx, crdName, &res)
		if err != nil {
			m.event(ctx, crdName, corev1.EventTypeWarning, ReasonStorageMigrationFailed, "storage version migration failed: %v", err)
			return res, err
		}
		if done {
			return res, nil
		}
	}
	return res, fmt.Errorf("CRD %s changed during each of %d migration passes", crdName, maxPasses)
}

// pass is one attempt of Migrate; done is false when the final patch lost a
// race with another writer of the CRD.
func (m *Migrator) pass(ctx context.Context, crdName string, res *Result) (done bool, err error) {
	log := logf.FromContext(ctx).WithName("storage-migration").WithValues("crd", crdName)
	u, crd, err := m.getCRD(ctx, crdName)
	if err != nil {
		return false, err
	}
	storage, err := storageVersion(crd)
	if err != nil {
		return false, err
	}
	res.StorageVersion = storage
	res.StoredBefore = slices.Clone(crd.Status.StoredVersions)
	res.StoredAfter = res.StoredBefore
	if !migrationNeeded(crd.Status.StoredVersions, storage) {
		log.V(1).Info("nothing to migrate", "storedVersions", crd.Status.StoredVersions)
		return true, nil
	}
	log.Info("migrating stored objects", "storageVersion", storage, "storedVersions", crd.Status.StoredVersions)

	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: requestVersion(crd, storage), Kind: crd.Spec.Names.Kind}
	res.Objects, res.Rewritten, res.Pages = 0, 0, 0
	var cont string
	for {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(crd.Spec.Names.ListKind))
		if err := m.reader().List(ctx, list, client.Limit(m.pageSize()), client.Continue(cont)); err != nil {
			if apierrors.IsResourceExpired(err) && cont != "" {
				// The continue token outlived etcd's compaction: start the
				// list again; what was rewritten costs no write the second
				// time.
				log.Info("list continuation expired; listing again from the start")
				cont = ""
				continue
			}
			return false, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		res.Pages++
		for i := range list.Items {
			rewritten, err := m.rewrite(ctx, gvk, &list.Items[i])
			if err != nil {
				return false, err
			}
			res.Objects++
			if rewritten {
				res.Rewritten++
			}
		}
		log.Info("migration progress", "objects", res.Objects, "rewritten", res.Rewritten, "pages", res.Pages)
		if cont = list.GetContinue(); cont == "" {
			break
		}
	}

	trimmed := []string{storage}
	patch := fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q},"status":{"storedVersions":[%q]}}`, u.GetResourceVersion(), storage)
	if err := m.Client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil {
		if apierrors.IsConflict(err) {
			log.Info("the CRD changed during the migration; migrating again")
			return false, nil
		}
		return false, fmt.Errorf("trimming status.storedVersions of CRD %s: %w", crdName, err)
	}
	res.StoredAfter = trimmed
	log.Info("storage version migration done", "objects", res.Objects, "rewritten", res.Rewritten,
		"storedVersionsBefore", res.StoredBefore, "storedVersionsAfter", trimmed)
	m.event(ctx, crdName, corev1.EventTypeNormal, ReasonStorageVersionMigrated,
		"migrated %d objects to %s (%d re-encoded); storedVersions trimmed from %v to %v",
		res.Objects, storage, res.Rewritten, res.StoredBefore, trimmed)
	return true, nil
}

// rewrite makes the API server re-encode one object: an empty apply with
// the object's UID and resourceVersion as preconditions. NotFound means the
// object is gone; a conflict means it changed since the list, so it is read
// again and the apply repeated (a write after the list was probably at the
// storage version already, but "probably" is not what storedVersions
// promises). It reports whether the object was written.
func (m *Migrator) rewrite(ctx context.Context, gvk schema.GroupVersionKind, obj *metav1.PartialObjectMetadata) (bool, error) {
	key := client.ObjectKeyFromObject(obj)
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	rewritten := false
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(key.Namespace)
		u.SetName(key.Name)
		u.SetUID(uid)
		u.SetResourceVersion(rv)
		err := m.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(m.fieldOwner()))
		if err == nil {
			rewritten = u.GetResourceVersion() != rv
			return nil
		}
		if apierrors.IsConflict(err) {
			fresh := &metav1.PartialObjectMetadata{}
			fresh.SetGroupVersionKind(gvk)
			if getErr := m.reader().Get(ctx, key, fresh); getErr != nil {
				return getErr
			}
			uid, rv = fresh.GetUID(), fresh.GetResourceVersion()
		}
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("rewriting %s %s: %w", gvk.Kind, key, err)
	}
	return rewritten, nil
}

func (m *Migrator) getCRD(ctx context.Context, name string) (*unstructured.Unstructured, *apiextensionsv1.CustomResourceDefinition, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(crdGVK)
	if err := m.reader().Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		return nil, nil, fmt.Errorf("reading CRD %s: %w", name, err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
		return nil, nil, fmt.Errorf("decoding CRD %s: %w", name, err)
	}
	return u, crd, nil
}

// event records an Event on the CRD when there is a Recorder. Events of a
// cluster-scoped object land in the default namespace.
func (m *Migrator) event(ctx context.Context, crdName, eventType, reason, note string, args ...any) {
	if m.Recorder == nil {
		return
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(crdGVK)
	if err := m.reader().Get(ctx, client.ObjectKey{Name: crdName}, u); err != nil {
		return
	}
	m.Recorder.Eventf(u, nil, eventType, reason, "MigrateStorageVersion", note, args...)
}

func (m *Migrator) reader() client.Reader {
	if m.APIReader != nil {
		return m.APIReader
	}
	return m.Client
}

func (m *Migrator) pageSize() int64 {
	if m.PageSize > 0 {
		return m.PageSize
	}
	return DefaultPageSize
}

func (m *Migrator) fieldOwner() string {
	if m.FieldOwner != "" {
		return m.FieldOwner
	}
	return DefaultFieldOwner
}

// retryDelay is a jittered exponential backoff from 1 s, capped at
// MaxRetryDelay.
func (m *Migrator) retryDelay(failures int) time.Duration {
	maxDelay := m.MaxRetryDelay
	if maxDelay <= 0 {
		maxDelay = DefaultMaxRetryDelay
	}
	d := min(firstRetryDelay<<min(failures, 16), maxDelay)
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
}

// storageVersion is the version with storage: true.
func storageVersion(crd *apiextensionsv1.CustomResourceDefinition) (string, error) {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name, nil
		}
	}
	return "", errors.New("CRD " + crd.Name + " has no storage version")
}

// migrationNeeded: storedVersions lists more than the storage version, or
// another one. An empty list (a CRD the API server has not recorded yet)
// has nothing stored to migrate.
func migrationNeeded(stored []string, storage string) bool {
	return len(stored) > 0 && !slices.Equal(stored, []string{storage})
}

// requestVersion is the version the objects are listed and applied at: the
// storage version when it is served, else any served one. Which version a
// request uses does not matter for the rewrite; the API server always
// writes at the storage version.
func requestVersion(crd *apiextensionsv1.CustomResourceDefinition, storage string) string {
	for _, v := range crd.Spec.Versions {
		if v.Name == storage && v.Served {
			return storage
		}
	}
	for _, v := range crd.Spec.Versions {
		if v.Served {
			return v.Name
		}
	}
	return storage
}

// Package admission holds the admission webhooks: the rules CEL cannot see
// because they compare against other objects (the clusters Secret), need
// arithmetic on quantities, or parse a cron schedule.
package admission

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/schedule"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// +kubebuilder:webhook:path=/validate-bemade-org-v1alpha2-odooinstance,mutating=false,failurePolicy=fail,sideEffects=None,groups=bemade.org,resources=odooinstances,verbs=create;update,versions=v1alpha2,name=vodooinstance.bemade.org,admissionReviewVersions=v1

// OdooInstanceValidator refuses what the CRD's CEL rules cannot see.
type OdooInstanceValidator struct {
	// Reader reads the clusters Secret (from the manager's cache).
	Reader client.Reader
	// ClustersNamespace and ClustersSecret locate the clusters Secret.
	ClustersNamespace, ClustersSecret string
	// DefaultClusterAlias is the name legacy conversions fill in
	// (--legacy-default-cluster): it means "the default cluster".
	DefaultClusterAlias string
	// Egress is the operator's egress policy: a spec.webhook.url naming an
	// address it refuses is refused here already.
	Egress egress.Policy
	// BackupMinInterval is the administrator's floor between two times of
	// spec.backup.schedule (0: schedule.DefaultMinInterval).
	BackupMinInterval time.Duration
}

var _ admission.Validator[*odoov1alpha2.OdooInstance] = &OdooInstanceValidator{}

// SetupWithManager registers the validating webhook.
func (v *OdooInstanceValidator) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &odoov1alpha2.OdooInstance{}).WithValidator(v).Complete()
}

// ValidateCreate refuses an unknown database cluster.
func (v *OdooInstanceValidator) ValidateCreate(ctx context.Context, inst *odoov1alpha2.OdooInstance) (admission.Warnings, error) {
	clusters, err := v.clusters(ctx)
	if err != nil {
		return nil, err
	}
	errs := validateCluster(inst, clusters, v.DefaultClusterAlias)
	errs = append(errs, validateSchedule(inst, v.BackupMinInterval)...)
	errs = append(errs, validateWebhookURL(inst, v.Egress)...)
	errs = append(errs, validateConfigOptions(nil, inst)...)
	errs = append(errs, validateProductionRef(inst)...)
	policyErrs, err := v.validatePolicy(ctx, nil, inst, clusters)
	if err != nil {
		return nil, err
	}
	errs = append(errs, policyErrs...)
	return warnings(inst), invalid(inst, errs)
}

// ValidateUpdate refuses an unknown cluster, a move between clusters and a
// filestore shrink.
func (v *OdooInstanceValidator) ValidateUpdate(ctx context.Context, old, inst *odoov1alpha2.OdooInstance) (admission.Warnings, error) {
	clusters, err := v.clusters(ctx)
	if err != nil {
		return nil, err
	}
	errs := validateTransition(old, inst, clusters, v.DefaultClusterAlias)
	if old.Spec.Backup.Schedule != inst.Spec.Backup.Schedule {
		errs = append(errs, validateSchedule(inst, v.BackupMinInterval)...)
	}
	if old.Spec.Webhook == nil || inst.Spec.Webhook == nil || old.Spec.Webhook.URL != inst.Spec.Webhook.URL {
		errs = append(errs, validateWebhookURL(inst, v.Egress)...)
	}
	errs = append(errs, validateConfigOptions(old, inst)...)
	errs = append(errs, validateProductionRef(inst)...)
	if old.Spec.Database.Cluster != inst.Spec.Database.Cluster {
		// Re-checking an unchanged name on every update would block
		// unrelated edits (finalizers, labels, the storage migration) once a
		// cluster leaves the Secret.
		errs = append(errs, validateCluster(inst, clusters, v.DefaultClusterAlias)...)
	}
	policyErrs, err := v.validatePolicy(ctx, old, inst, clusters)
	if err != nil {
		return nil, err
	}
	errs = append(errs, policyErrs...)
	var warn admission.Warnings
	if inst.Spec.AdminPassword != old.Spec.AdminPassword {
		// Only when the user sets it: the operator's own metadata updates
		// would otherwise log the warning on every reconcile.
		warn = warnings(inst)
	}
	return warn, invalid(inst, errs)
}

// validateWebhookURL refuses a spec.webhook.url whose host is a literal
// address the egress policy refuses (the kube-apiserver on 127.0.0.1, the
// metadata service): the cheap part of the check the notifier makes on every
// connection. Names are resolved only then. The URL is not echoed: its path
// or query may be a token.
func validateWebhookURL(inst *odoov1alpha2.OdooInstance, p egress.Policy) field.ErrorList {
	wh := inst.Spec.Webhook
	if wh == nil || wh.URL == "" {
		return nil
	}
	if err := p.CheckURL(wh.URL, false); err != nil {
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "webhook", "url"), err.Error())}
	}
	return nil
}

// ValidateDelete allows every deletion: the finalizer carries out the policy.
func (v *OdooInstanceValidator) ValidateDelete(context.Context, *odoov1alpha2.OdooInstance) (admission.Warnings, error) {
	return nil, nil
}

// clusters reads the clusters Secret; nil when it does not exist (the legacy
// --db-host connection is used).
func (v *OdooInstanceValidator) clusters(ctx context.Context) (postgres.Clusters, error) {
	secret := &corev1.Secret{}
	err := v.Reader.Get(ctx, types.NamespacedName{Namespace: v.ClustersNamespace, Name: v.ClustersSecret}, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("reading the clusters Secret: %w", err))
	}
	clusters, err := postgres.ParseClusters(secret.Data[postgres.ClustersKey])
	if err != nil {
		// A broken Secret is the administrator's problem, reported on every
		// instance by the controller; it must not block users' edits.
		return nil, nil //nolint:nilerr // see above
	}
	return clusters, nil
}

// validateCluster refuses a spec.database.cluster that the clusters Secret
// does not define.
func validateCluster(inst *odoov1alpha2.OdooInstance, clusters postgres.Clusters, alias string) field.ErrorList {
	name := inst.Spec.Database.Cluster
	if clusters == nil || name == "" {
		return nil
	}
	if _, ok := clusters[name]; ok {
		return nil
	}
	if name == alias {
		if _, err := clusters.Resolve(""); err == nil {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "database", "cluster"), name, fmt.Sprintf(
		"no such cluster in the clusters Secret; known clusters: %s (or leave it empty for the default)",
		strings.Join(clusters.Names(), ", ")))}
}

// validateTransition refuses changes that no migration can carry out, and a
// storage class or cluster change while the migration it started runs.
func validateTransition(old, inst *odoov1alpha2.OdooInstance, clusters postgres.Clusters, alias string) field.ErrorList {
	var errs field.ErrorList
	// A change of cluster moves the database (package dbmove); one move at
	// a time, so the target of the move in progress stays as it is.
	if before, after := old.Spec.Database.Cluster, inst.Spec.Database.Cluster; before != after && !sameCluster(before, after, clusters, alias) {
		if db := old.Status.Database; db != nil && db.Move != nil && db.Move.Phase == odoov1alpha2.DatabaseMoveMoving {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "database", "cluster"), fmt.Sprintf(
				"cannot change from %q to %q while the database moves from cluster %q to %q (step %s); wait until status.database.move.phase is Succeeded or Failed, then change it again",
				before, after, db.Move.SourceCluster, db.Move.TargetCluster, db.Move.Step)))
		}
	}
	errs = append(errs, validateDatabaseName(old, inst)...)
	if old.Spec.Filestore.StorageSize != nil && inst.Spec.Filestore.StorageSize != nil &&
		inst.Spec.Filestore.StorageSize.Cmp(*old.Spec.Filestore.StorageSize) < 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "filestore", "storageSize"), fmt.Sprintf(
			"cannot shrink from %s to %s: volumes only grow", old.Spec.Filestore.StorageSize.String(), inst.Spec.Filestore.StorageSize.String())))
	}
	if f := old.Status.Filestore; f != nil && f.Migration != nil && f.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying &&
		old.Spec.Filestore.StorageClass != inst.Spec.Filestore.StorageClass {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "filestore", "storageClass"), fmt.Sprintf(
			"cannot change to %q while the filestore is being migrated to %q (Job %s); wait until status.filestore.migration is gone or Failed, then change it again",
			inst.Spec.Filestore.StorageClass, f.Migration.TargetStorageClass, f.Migration.JobName)))
	}
	return errs
}

// sameCluster says whether two spellings name the same cluster: "" and the
// legacy alias both mean the default one.
func sameCluster(a, b string, clusters postgres.Clusters, alias string) bool {
	resolve := func(n string) string {
		if n == alias && clusters != nil {
			if _, ok := clusters[n]; !ok {
				n = ""
			}
		}
		if n == "" {
			if clusters == nil {
				return alias
			}
			if c, err := clusters.Resolve(""); err == nil {
				return c.Name
			}
		}
		return n
	}
	return resolve(a) == resolve(b)
}

func warnings(inst *odoov1alpha2.OdooInstance) admission.Warnings {
	if inst.Spec.AdminPassword != "" {
		return admission.Warnings{"spec.adminPassword keeps Odoo's master password in plain text in the OdooInstance; prefer spec.adminPasswordSecretRef"}
	}
	return nil
}

func invalid(inst *odoov1alpha2.OdooInstance, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(odoov1alpha2.GroupVersion.WithKind("OdooInstance").GroupKind(), inst.Name, errs)
}

// validateSchedule refuses a spec.backup.schedule that is not a standard
// 5-field cron expression in UTC, never fires, or fires closer together than
// minInterval (the administrator's floor; 0 means the default).
func validateSchedule(inst *odoov1alpha2.OdooInstance, minInterval time.Duration) field.ErrorList {
	if inst.Spec.Backup.Schedule == "" {
		return nil
	}
	if _, err := schedule.Parse(inst.Spec.Backup.Schedule, schedule.Floor(minInterval)); err != nil {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "backup", "schedule"), inst.Spec.Backup.Schedule, err.Error())}
	}
	return nil
}

// validateDatabaseName refuses a change of spec.database.name after
// creation: the database in use (status.database.name) never changes, so a
// new name would only stall the instance. Setting it to the name in use, or
// removing it once that name is recorded, changes nothing and is allowed.
func validateDatabaseName(old, inst *odoov1alpha2.OdooInstance) field.ErrorList {
	before, after := old.Spec.Database.Name, inst.Spec.Database.Name
	if before == after {
		return nil
	}
	inUse := ""
	if old.Status.Database != nil {
		inUse = old.Status.Database.Name
	}
	if inUse != "" && (after == inUse || after == "") {
		return nil
	}
	why := "it can be set only when the instance is created"
	fix := fmt.Sprintf("set it back to %q", before)
	if inUse != "" {
		why += fmt.Sprintf("; the database in use is %q", inUse)
		fix = fmt.Sprintf("set it back to %q", inUse)
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "database", "name"), fmt.Sprintf(
		"cannot change from %q to %q: %s; %s, and to move the data into another database, back up and restore it into a new instance",
		before, after, why, fix))}
}

package odooinstance

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// ReadOnlyDatabases is what the read-only login needs of PostgreSQL
// (*postgres.Manager has it).
type ReadOnlyDatabases interface {
	EnsureReadOnly(ctx context.Context, c postgres.Cluster, owner postgres.TenantLogin, db string, ro postgres.DesiredReadOnlyRole) (postgres.EnsureResult, error)
	DropReadOnly(ctx context.Context, c postgres.Cluster, owner postgres.TenantLogin, db, roName string) ([]postgres.Action, error)
}

// reconcileReadOnly provides spec.readOnlySqlAccess: the Secret (created
// once with a random password) and the role <instance role>_ro with SELECT
// on the instance's database, or, once disabled, drops the role and deletes
// the Secret. It runs only while the database is there and healthy.
func (r *Reconciler) reconcileReadOnly(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	dbs, ok := r.Databases.(ReadOnlyDatabases)
	if !ok || s.dbProblem || s.databaseMissing || s.dbUser == "" {
		return ctrl.Result{}, nil
	}
	key := types.NamespacedName{Namespace: inst.Namespace, Name: resources.ReadOnlySecretName(inst)}
	secret := &corev1.Secret{}
	err := r.Get(ctx, key, secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	exists := err == nil && ownedBy(secret, inst)
	roName := postgres.ReadOnlyRoleName(s.dbUser)

	if !resources.ReadOnlyEnabled(inst) {
		if !exists {
			return ctrl.Result{}, nil
		}
		if _, err := dbs.DropReadOnly(ctx, s.cluster, s.tenantLogin(), s.dbName, roName); err != nil {
			return r.readOnlyProblem(s, err)
		}
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseCreated, "ReadOnlyRole",
			"cluster %s: dropped read-only role %q", s.cluster.Name, roName)
		return ctrl.Result{}, client.IgnoreNotFound(r.Delete(ctx, secret))
	}

	if !exists {
		if err == nil {
			// A Secret of that name the operator did not make: not used.
			s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonReadOnlyRoleConflict, fmt.Sprintf(
				"spec.readOnlySqlAccess: Secret %q exists and is not this instance's; delete or rename it", key.Name)})
			return ctrl.Result{}, nil
		}
		password, perr := resources.NewPassword()
		if perr != nil {
			return ctrl.Result{}, perr
		}
		secret = resources.NewReadOnlySecret(inst, roName, password, s.cluster.Host, s.cluster.Port, s.dbName)
		if err := r.Create(ctx, secret); apierrors.IsAlreadyExists(err) {
			if err := r.APIReader.Get(ctx, key, secret); err != nil {
				return ctrl.Result{}, err
			}
		} else if err != nil {
			return ctrl.Result{}, err
		}
	}
	ro := postgres.DesiredReadOnlyRole{Name: roName, Password: string(secret.Data[resources.UserSecretPasswordKey]),
		ConnectionLimit: resources.ReadOnlyConnectionLimit(inst)}
	res, err := dbs.EnsureReadOnly(ctx, s.cluster, s.tenantLogin(), s.dbName, ro)
	if err != nil {
		return r.readOnlyProblem(s, err)
	}
	if len(res.Actions) > 0 {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseCreated, "ReadOnlyRole",
			"cluster %s: %s", s.cluster.Name, actionsNote(res.Actions))
	}
	return ctrl.Result{}, nil
}

// readOnlyProblem reports a failed read-only role without stopping the
// reconcile: Odoo itself does not need it. A conflict waits for a person.
func (r *Reconciler) readOnlyProblem(s *scope, err error) (ctrl.Result, error) {
	if errors.Is(err, postgres.ErrConflict) {
		s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonReadOnlyRoleConflict, "spec.readOnlySqlAccess: " + err.Error()})
		return ctrl.Result{RequeueAfter: stalledRetry}, nil
	}
	s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonReadOnlyRoleFailed, "spec.readOnlySqlAccess: " + err.Error()})
	return ctrl.Result{}, err
}

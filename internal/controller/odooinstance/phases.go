package odooinstance

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// resolveAdminPassword reads admin_passwd from the spec or from the Secret it
// references. A missing Secret or key stalls the instance with a message that
// says what to create; the Secret is not watched, so it is looked at again
// every minute.
func (r *Reconciler) resolveAdminPassword(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	ref := inst.Spec.AdminPasswordSecretRef
	if ref == nil {
		s.adminPassword = inst.Spec.AdminPassword
		return ctrl.Result{}, nil
	}
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: ref.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		s.stalled = &problem{odoov1alpha2.ReasonAdminPasswordSecretMissing,
			fmt.Sprintf("spec.adminPasswordSecretRef: Secret %q not found in namespace %q; create it with key %q", ref.Name, inst.Namespace, ref.Key)}
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading admin password Secret %s: %w", ref.Name, err)
	case len(secret.Data[ref.Key]) == 0:
		s.stalled = &problem{odoov1alpha2.ReasonAdminPasswordSecretMissing,
			fmt.Sprintf("spec.adminPasswordSecretRef: Secret %q has no key %q (or it is empty); add the master password under that key", ref.Name, ref.Key)}
	default:
		s.adminPassword = string(secret.Data[ref.Key])
		return ctrl.Result{}, nil
	}
	s.stop = true
	return ctrl.Result{RequeueAfter: stalledRetry}, nil
}

// reconcileUserSecret creates the database credentials Secret once, with a
// random password, and reads it back on later reconciles.
func (r *Reconciler) reconcileUserSecret(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: inst.Namespace, Name: resources.UserSecretName(inst)}
	err := r.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		password, perr := resources.NewPassword()
		if perr != nil {
			return ctrl.Result{}, perr
		}
		secret = resources.NewUserSecret(inst, password)
		if err = r.Create(ctx, secret); apierrors.IsAlreadyExists(err) {
			// Created by an earlier reconcile the cache has not seen yet.
			err = r.APIReader.Get(ctx, key, secret)
		}
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("database credentials Secret %s: %w", key.Name, err)
	}
	// The Secret lives in the tenant's namespace: only the one the operator
	// made for this instance, naming this instance's role, is ever used.
	if why := resources.CheckUserSecret(inst, secret); why != "" {
		s.stalled = &problem{odoov1alpha2.ReasonDatabaseCredentialsRefused, why}
		s.stop = true
		return ctrl.Result{RequeueAfter: stalledRetry}, nil
	}
	s.dbUser = string(secret.Data[resources.UserSecretUsernameKey])
	s.dbPassword = string(secret.Data[resources.UserSecretPasswordKey])
	return ctrl.Result{}, nil
}

// tenantLogin is the instance's own PostgreSQL login, the only one the
// operator uses inside the instance's database.
func (s *scope) tenantLogin() postgres.TenantLogin {
	return postgres.TenantLogin{Role: s.dbUser, Password: s.dbPassword}
}

// reconcileConfSecret renders odoo.conf into its Secret.
func (r *Reconciler) reconcileConfSecret(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	conf := resources.RenderOdooConf(resources.ConfInputs{
		Instance: inst,
		Database: resources.DatabaseConnection{
			Host: s.cluster.Host, Port: s.cluster.Port, SSLMode: s.cluster.ClientSSLMode(),
			Name: s.dbName, User: s.dbUser, Password: s.dbPassword,
		},
		AdminPassword: s.adminPassword,
	})
	s.confHash = resources.ConfHash(conf)
	current := &corev1.Secret{}
	if err := r.getOptional(ctx, inst, resources.ConfSecretName(inst), current); err != nil {
		return ctrl.Result{}, err
	}
	if _, err := r.Applier.Apply(ctx, "Secret", resources.ConfSecret(inst, conf), nilIfAbsent(current), nil); err != nil {
		return ctrl.Result{}, wrap("odoo.conf Secret", err)
	}
	return ctrl.Result{}, r.reconcileDBCASecret(ctx, s)
}

// reconcileDBCASecret keeps the cluster's caCert in <name>-db-ca for the
// pods and Jobs that mount it (before they are built), and deletes the one
// it made when the cluster no longer has a caCert.
func (r *Reconciler) reconcileDBCASecret(ctx context.Context, s *scope) error {
	inst := s.instance
	current := &corev1.Secret{}
	if err := r.getOptional(ctx, inst, resources.DBCASecretName(inst), current); err != nil {
		return err
	}
	if s.cluster.CACert == "" {
		if current.UID == "" || !ownedBy(current, inst) {
			return nil
		}
		return wrap("deleting the CA Secret", client.IgnoreNotFound(r.Delete(ctx, current, client.Preconditions{UID: &current.UID})))
	}
	_, err := r.Applier.Apply(ctx, "Secret", resources.DBCASecret(inst, s.cluster.CACert), nilIfAbsent(current), nil)
	return wrap("CA Secret", err)
}

// reconcileWorkloads applies the web and cron Deployments.
func (r *Reconciler) reconcileWorkloads(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	in := resources.WorkloadInputs{Instance: inst, WebImage: s.serving.WebImage, CronImage: s.serving.CronImage, ConfHash: s.confHash, Hold: s.hold(),
		StopWeb: s.serving.StopWeb, StopCron: s.serving.StopCron, FilestoreClaim: resources.FilestoreClaimName(inst),
		DBCA: s.cluster.CACert != ""}
	if in.WebImage == "" {
		// The upgrade phase did not run (an earlier phase stopped): keep
		// what the status says is running rather than jump to spec.image.
		in.WebImage, in.CronImage = s.fallbackImages()
	}
	current, _, err := r.currentDeployments(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	if image := containerImage(current); current.UID != "" && image != "" && image != in.WebImage {
		// The stabilization period of an automatic rollback starts now.
		now := metav1.Now()
		s.rolloutTime = &now
	}

	web, err := r.applyDeployment(ctx, inst, resources.WebName(inst), resources.WebDeployment(in))
	if err != nil {
		return ctrl.Result{}, wrap("web Deployment", err)
	}
	s.web = web
	cron, err := r.applyDeployment(ctx, inst, resources.CronName(inst), resources.CronDeployment(in))
	if err != nil {
		return ctrl.Result{}, wrap("cron Deployment", err)
	}
	s.cron = cron
	return ctrl.Result{}, nil
}

func (r *Reconciler) applyDeployment(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string, desired runtime.ApplyConfiguration) (*appsv1.Deployment, error) {
	current := &appsv1.Deployment{}
	if err := r.getOptional(ctx, inst, name, current); err != nil {
		return nil, err
	}
	applied := &appsv1.Deployment{}
	if _, err := r.Applier.Apply(ctx, "Deployment", desired, nilIfAbsent(current), applied); err != nil {
		return nil, err
	}
	return applied, nil
}

// reconcileService applies the Service.
func (r *Reconciler) reconcileService(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	current := &corev1.Service{}
	if err := r.getOptional(ctx, inst, resources.WebName(inst), current); err != nil {
		return ctrl.Result{}, err
	}
	_, err := r.Applier.Apply(ctx, "Service", resources.Service(inst), nilIfAbsent(current), nil)
	return ctrl.Result{}, wrap("Service", err)
}

// reconcileIngress applies the Ingress, or deletes the one the instance owns
// when spec.ingress was removed.
func (r *Reconciler) reconcileIngress(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	current := &networkingv1.Ingress{}
	if err := r.getOptional(ctx, inst, resources.WebName(inst), current); err != nil {
		return ctrl.Result{}, err
	}
	desired := resources.Ingress(inst)
	if desired == nil {
		if current.UID == "" || !ownedBy(current, inst) {
			return ctrl.Result{}, nil
		}
		r.Applier.Forget("Ingress", client.ObjectKeyFromObject(current))
		return ctrl.Result{}, wrap("deleting Ingress", client.IgnoreNotFound(r.Delete(ctx, current)))
	}
	_, err := r.Applier.Apply(ctx, "Ingress", desired, nilIfAbsent(current), nil)
	return ctrl.Result{}, wrap("Ingress", err)
}

// getOptional reads a namespaced object of the instance from the cache,
// leaving obj empty (UID "") when it does not exist.
func (r *Reconciler) getOptional(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string, obj client.Object) error {
	err := r.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func ownedBy(obj client.Object, inst *odoov1alpha2.OdooInstance) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == inst.UID {
			return true
		}
	}
	return false
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// currentDeployments reads web and cron from the cache once per reconcile;
// an absent one is returned empty (UID "").
func (r *Reconciler) currentDeployments(ctx context.Context, s *scope) (web, cron *appsv1.Deployment, err error) {
	if s.currentWeb != nil {
		return s.currentWeb, s.currentCron, nil
	}
	inst := s.instance
	web, cron = &appsv1.Deployment{}, &appsv1.Deployment{}
	if err := r.getOptional(ctx, inst, resources.WebName(inst), web); err != nil {
		return nil, nil, err
	}
	if err := r.getOptional(ctx, inst, resources.CronName(inst), cron); err != nil {
		return nil, nil, err
	}
	s.currentWeb, s.currentCron = web, cron
	return web, cron, nil
}

package odooinstance

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// scope holds what one reconcile read and decided, shared by its phases.
type scope struct {
	// instance is the object being reconciled; its status is rewritten at the end.
	instance *odoov1alpha2.OdooInstance
	// before is the instance as read, to patch the status against.
	before *odoov1alpha2.OdooInstance

	// adminPassword is admin_passwd, from the spec or its Secret.
	adminPassword string
	// dbUser and dbPassword are the instance's PostgreSQL credentials.
	dbUser, dbPassword string
	// confHash is the hash of the rendered odoo.conf.
	confHash string
	// pvc is the filestore claim as it exists (nil before creation).
	pvc *corev1.PersistentVolumeClaim
	// web and cron are the Deployments as the server last returned them.
	web, cron *appsv1.Deployment

	// stalled is set when the spec cannot be reconciled until the user fixes it.
	stalled *problem
	// degraded are problems that keep the instance from being Ready.
	degraded []problem
	// stop ends the reconcile after the current phase.
	stop bool
}

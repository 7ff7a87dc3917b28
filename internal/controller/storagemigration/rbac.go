package storagemigration

// RBAC of this package and of internal/webhook/certs: controller-gen reads
// markers from ./internal/controller/... only.
//
// The Migrator reads the CRDs, rewrites the objects of each (an empty
// server-side apply is a patch) and trims status.storedVersions. The CRD
// names are fixed, so the grant names them.
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;patch,resourceNames=odooinstances.bemade.org;odooinitjobs.bemade.org;odooupgradejobs.bemade.org;odoobackupjobs.bemade.org;odoorestorejobs.bemade.org;odoostagingrefreshjobs.bemade.org
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions/status,verbs=get;patch,resourceNames=odooinstances.bemade.org;odooinitjobs.bemade.org;odooupgradejobs.bemade.org;odoobackupjobs.bemade.org;odoorestorejobs.bemade.org;odoostagingrefreshjobs.bemade.org
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances;odooinitjobs;odooupgradejobs;odoobackupjobs;odoorestorejobs;odoostagingrefreshjobs,verbs=get;list;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// The certificate Rotator (internal/webhook/certs) patches the CRDs'
// spec.conversion (above) and the caBundle of the one validating webhook
// configuration, by name (--validating-webhook-config; rename both together).
// It reads, watches and creates its Secret in the operator's namespace (the
// ClusterRole grants get, list, watch and create on Secrets for the
// instances); updating it is granted by the hand-written Role in
// config/rbac/webhook_certs_role.yaml, in the operator's namespace only.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;patch,resourceNames=odoo-operator-validating

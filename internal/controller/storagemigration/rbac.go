package storagemigration

// RBAC of this package and of internal/webhook/certs: controller-gen reads
// markers from ./internal/controller/... only.
//
// The Migrator reads the CRDs, rewrites the objects of each (an empty
// server-side apply is a patch) and trims status.storedVersions. The CRD
// names are fixed, so the grant names them.
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;patch,resourceNames=odooinstances.bemade.org;odooinitjobs.bemade.org;odooupgradejobs.bemade.org;odoobackupjobs.bemade.org;odoorestorejobs.bemade.org
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions/status,verbs=get;patch,resourceNames=odooinstances.bemade.org;odooinitjobs.bemade.org;odooupgradejobs.bemade.org;odoobackupjobs.bemade.org;odoorestorejobs.bemade.org
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances;odooinitjobs;odooupgradejobs;odoobackupjobs;odoorestorejobs,verbs=get;list;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// The certificate Rotator (internal/webhook/certs) patches the CRDs'
// spec.conversion (above), the caBundle of the admission webhook
// configurations, whose names depend on the kustomize prefix, and reads,
// watches and writes its Secret in the operator's namespace (the
// ClusterRole already grants Secrets cluster-wide for the instances).
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations;mutatingwebhookconfigurations,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update

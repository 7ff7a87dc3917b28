package resources

import (
	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// The CA of the instance's PostgreSQL cluster (its caCert in the clusters
// Secret), as every pod that connects to the database sees it.
const (
	// DBCAKey is the key of the PEM certificates in the DBCASecretName Secret.
	DBCAKey = "ca.crt"
	// DBCAMountPath is where Odoo pods, Odoo Jobs and data Jobs mount it.
	DBCAMountPath = "/etc/odoo-db-ca"
	// DBCAFile is the file libpq (psycopg2, pg_dump) and pgx read through
	// PGSSLROOTCERT.
	DBCAFile   = DBCAMountPath + "/" + DBCAKey
	dbCAVolume = "db-ca"
	// dbCAMode: certificates are public; every uid of the pod may read them.
	dbCAMode = int32(0o444)
)

// DBCASecretName is the Secret holding the cluster's CA for the instance's
// pods: <name>-db-ca.
func DBCASecretName(inst *odoov1alpha2.OdooInstance) string {
	return withSuffix(inst.Name, "-db-ca")
}

// DBCASecret holds the cluster's caCert (PEM) for the instance's pods. It
// is public material, kept in a Secret like the rest of the connection.
func DBCASecret(inst *odoov1alpha2.OdooInstance, caPEM string) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(DBCASecretName(inst), inst.Namespace).
		WithLabels(Labels(inst, "database")).
		WithOwnerReferences(OwnerReference(inst)).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{DBCAKey: []byte(caPEM)})
}

// withDBCA mounts the DBCASecretName Secret read-only into the containers of
// pod and points libpq at it (PGSSLROOTCERT), so that sslmode verify-ca and
// verify-full verify the server against the cluster's caCert. Set after
// spec.extraEnv, so the operator's value is the one in force. Nothing is
// added when the cluster has no caCert (enabled false). It edits the pod's
// own copies (WithContainers copies the containers it is given).
func withDBCA(pod *corev1ac.PodSpecApplyConfiguration, inst *odoov1alpha2.OdooInstance, enabled bool) {
	if !enabled {
		return
	}
	pod.WithVolumes(corev1ac.Volume().WithName(dbCAVolume).WithSecret(corev1ac.SecretVolumeSource().
		WithSecretName(DBCASecretName(inst)).WithDefaultMode(dbCAMode)))
	for i := range pod.Containers {
		c := &pod.Containers[i]
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName(dbCAVolume).WithMountPath(DBCAMountPath).WithReadOnly(true))
		c.WithEnv(corev1ac.EnvVar().WithName("PGSSLROOTCERT").WithValue(DBCAFile))
	}
}

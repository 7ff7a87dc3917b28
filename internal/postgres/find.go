package postgres

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// ClusterSource says where instances find their PostgreSQL cluster: the
// clusters Secret in the operator's namespace, or the legacy --db-host
// connection when that Secret does not exist.
type ClusterSource struct {
	// Namespace and SecretName locate the clusters Secret (key clusters.yaml).
	Namespace, SecretName string
	// Legacy is the connection from the operator's flags and environment.
	Legacy Cluster
	// DefaultAlias is the cluster name conversions of legacy objects fill in
	// (the roadmap's "default"): it means the default cluster unless the
	// Secret defines a cluster of that name.
	DefaultAlias string
}

// ClusterProblem is a cluster only the user can fix (an unknown name, an
// unreadable clusters Secret): Reason is the condition reason, Message
// names the field and the fix.
type ClusterProblem struct {
	Reason, Message string
}

func (p *ClusterProblem) Error() string { return p.Message }

// FindCluster finds the cluster of inst, reading the clusters Secret with
// secrets. legacy is true when the cluster is the operator's --db-host
// connection (no clusters Secret). A *ClusterProblem error is for the user
// to fix; any other error is transient (reading the Secret).
//
// An initialised database stays on the cluster status.database.cluster
// records while the clusters Secret defines it: a change of
// spec.database.cluster is a move of the database (package dbmove), and until
// the move swapped, the instance, its backups and restores keep using the
// cluster that holds the data. FindSpecCluster resolves the spec alone.
func FindCluster(ctx context.Context, secrets client.Reader, src ClusterSource, inst *odoov1alpha2.OdooInstance) (c Cluster, legacy bool, err error) {
	return findCluster(ctx, secrets, src, inst, true)
}

// FindSpecCluster finds the cluster spec.database.cluster names, whatever
// cluster holds the database now.
func FindSpecCluster(ctx context.Context, secrets client.Reader, src ClusterSource, inst *odoov1alpha2.OdooInstance) (c Cluster, legacy bool, err error) {
	return findCluster(ctx, secrets, src, inst, false)
}

func findCluster(ctx context.Context, secrets client.Reader, src ClusterSource, inst *odoov1alpha2.OdooInstance, serving bool) (c Cluster, legacy bool, err error) {
	secret := &corev1.Secret{}
	err = secrets.Get(ctx, types.NamespacedName{Namespace: src.Namespace, Name: src.SecretName}, secret)
	name := inst.Spec.Database.Cluster
	if apierrors.IsNotFound(err) {
		if name != "" && name != src.Legacy.Name && name != src.DefaultAlias {
			return Cluster{}, false, &ClusterProblem{odoov1alpha2.ReasonUnknownCluster, fmt.Sprintf(
				"spec.database.cluster %q: the clusters Secret %s/%s does not exist; create it with key %s, or clear spec.database.cluster to use the operator's --db-host connection",
				inst.Spec.Database.Cluster, src.Namespace, src.SecretName, ClustersKey)}
		}
		return src.Legacy, true, nil
	}
	if err != nil {
		return Cluster{}, false, fmt.Errorf("reading the clusters Secret: %w", err)
	}
	clusters, err := ParseClusters(secret.Data[ClustersKey])
	if err != nil {
		return Cluster{}, false, &ClusterProblem{odoov1alpha2.ReasonClustersSecretInvalid, fmt.Sprintf(
			"Secret %s/%s: %v", src.Namespace, src.SecretName, err)}
	}
	if db := inst.Status.Database; serving && db != nil && db.Initialized && db.Cluster != "" {
		if c, defined := clusters[db.Cluster]; defined {
			return c, false, nil
		}
		// A cluster gone from the Secret. The legacy connection before the
		// Secret existed, or an instance that names no cluster: the spec
		// decides, as before moves existed. One that names another cluster
		// than the one holding its data (a move asked, or one that failed)
		// must not silently switch to it: that cluster may hold an empty
		// or an old copy.
		alias := name == src.DefaultAlias && !defined(clusters, name)
		if db.Cluster != src.Legacy.Name && name != "" && !alias && name != db.Cluster {
			return Cluster{}, false, &ClusterProblem{odoov1alpha2.ReasonUnknownCluster, fmt.Sprintf(
				"status.database.cluster %q, the cluster that holds the database, is not in the clusters Secret (known clusters: %s): add it back; spec.database.cluster %q is only reached by moving the database from there",
				db.Cluster, listNames(clusters.Names()), name)}
		}
	}
	if _, defined := clusters[name]; !defined && name != "" && name == src.DefaultAlias {
		name = ""
	}
	c, err = clusters.Resolve(name)
	if err != nil {
		return Cluster{}, false, &ClusterProblem{odoov1alpha2.ReasonUnknownCluster, "spec.database.cluster: " + err.Error()}
	}
	return c, false, nil
}

func defined(cs Clusters, name string) bool {
	_, ok := cs[name]
	return ok
}

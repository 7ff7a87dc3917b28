package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestFindClusterKeepsTheServingCluster: once a database is initialised,
// the cluster recorded in status holds it until a move swapped, whatever
// spec.database.cluster says; FindSpecCluster resolves the spec.
func TestFindClusterKeepsTheServingCluster(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "op", Name: "clusters"}, Data: map[string][]byte{ClustersKey: []byte(`
main: {host: pg-main, adminUser: a, adminPassword: x, default: true}
analytics: {host: pg-analytics, adminUser: a, adminPassword: x}
`)}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret).Build()
	src := ClusterSource{Namespace: "op", SecretName: "clusters", DefaultAlias: "default", Legacy: LegacyCluster("legacy-host", 0, "a", "x", "")}
	inst := func(spec string, status *odoov1alpha2.DatabaseStatus) *odoov1alpha2.OdooInstance {
		i := &odoov1alpha2.OdooInstance{}
		i.Spec.Database.Cluster = spec
		i.Status.Database = status
		return i
	}
	tests := []struct {
		name                  string
		inst                  *odoov1alpha2.OdooInstance
		wantServing, wantSpec string
		wantSpecProblem       string
	}{
		{"new instance follows the spec", inst("analytics", nil), "analytics", "analytics", ""},
		{"not initialised follows the spec", inst("analytics", &odoov1alpha2.DatabaseStatus{Cluster: "main"}), "analytics", "analytics", ""},
		{"a move asked: the data stays on main until it swapped", inst("analytics", &odoov1alpha2.DatabaseStatus{Cluster: "main", Initialized: true}), "main", "analytics", ""},
		{"an empty spec keeps the recorded cluster", inst("", &odoov1alpha2.DatabaseStatus{Cluster: "analytics", Initialized: true}), "analytics", "main", ""},
		{"a recorded cluster gone from the Secret: the spec", inst("", &odoov1alpha2.DatabaseStatus{Cluster: "legacy", Initialized: true}), "main", "main", ""},
		{"a recorded cluster gone from the Secret, the spec naming another: refused", inst("analytics", &odoov1alpha2.DatabaseStatus{Cluster: "gone", Initialized: true}), "", "analytics", ""},
		{"the legacy connection gone to the Secret: the spec", inst("analytics", &odoov1alpha2.DatabaseStatus{Cluster: LegacyClusterName, Initialized: true}), "analytics", "analytics", ""},
		{"an unknown target leaves the serving cluster usable", inst("nope", &odoov1alpha2.DatabaseStatus{Cluster: "main", Initialized: true}), "main", "", odoov1alpha2.ReasonUnknownCluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := FindCluster(context.Background(), c, src, tt.inst)
			if tt.wantServing == "" {
				var p *ClusterProblem
				if !errors.As(err, &p) || p.Reason != odoov1alpha2.ReasonUnknownCluster || !strings.Contains(p.Message, `status.database.cluster "gone", the cluster that holds the database`) {
					t.Fatalf("FindCluster = %q, %v; want an UnknownCluster problem naming status.database.cluster", got.Name, err)
				}
			} else if err != nil || got.Name != tt.wantServing {
				t.Fatalf("FindCluster = %q, %v; want %q", got.Name, err, tt.wantServing)
			}
			spec, _, err := FindSpecCluster(context.Background(), c, src, tt.inst)
			var p *ClusterProblem
			if tt.wantSpecProblem != "" {
				if !errors.As(err, &p) || p.Reason != tt.wantSpecProblem {
					t.Fatalf("FindSpecCluster error = %v, want reason %s", err, tt.wantSpecProblem)
				}
				return
			}
			if err != nil || spec.Name != tt.wantSpec {
				t.Fatalf("FindSpecCluster = %q, %v; want %q", spec.Name, err, tt.wantSpec)
			}
		})
	}
}

package envtestutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// OperatorUser is the operator's ServiceAccount as the API server names it.
const OperatorUser = "system:serviceaccount:odoo-operator:odoo-operator"

// AsOperator installs the generated ClusterRole (config/rbac/role.yaml),
// binds it to the operator's ServiceAccount and returns a copy of cfg that
// impersonates it. A manager started with it has exactly the operator's
// RBAC, so a client call whose verb has no +kubebuilder:rbac marker fails
// the tests instead of a production install.
func AsOperator(ctx context.Context, cfg *rest.Config) (*rest.Config, error) {
	raw, err := os.ReadFile(filepath.Join(RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(raw, role); err != nil {
		return nil, fmt.Errorf("config/rbac/role.yaml: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: BaseScheme()})
	if err != nil {
		return nil, err
	}
	if err := c.Create(ctx, role); err != nil {
		return nil, fmt.Errorf("creating the operator's ClusterRole: %w", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: OperatorUser}},
	}
	if err := c.Create(ctx, binding); err != nil {
		return nil, fmt.Errorf("binding the operator's ClusterRole: %w", err)
	}
	out := rest.CopyConfig(cfg)
	out.Impersonate = rest.ImpersonationConfig{UserName: OperatorUser}
	return out, nil
}

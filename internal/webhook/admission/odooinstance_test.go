package admission

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

var clusters = postgres.Clusters{
	"main":      {Name: "main", Host: "pg-main", Port: 5432, Default: true},
	"analytics": {Name: "analytics", Host: "pg-analytics", Port: 5432},
}

func instance(cluster, size string) *odoov1alpha2.OdooInstance {
	inst := &odoov1alpha2.OdooInstance{}
	inst.Name = "shop"
	inst.Spec.Database.Cluster = cluster
	if size != "" {
		inst.Spec.Filestore.StorageSize = ptr.To(resource.MustParse(size))
	}
	return inst
}

func TestValidateCluster(t *testing.T) {
	tests := []struct {
		name     string
		cluster  string
		clusters postgres.Clusters
		wantErr  string
	}{
		{name: "known cluster", cluster: "analytics", clusters: clusters},
		{name: "empty means the default", cluster: "", clusters: clusters},
		{name: "the legacy alias means the default", cluster: "default", clusters: clusters},
		{name: "no clusters Secret: anything goes to the legacy connection", cluster: "whatever", clusters: nil},
		{name: "unknown cluster", cluster: "nope", clusters: clusters,
			wantErr: `spec.database.cluster: Invalid value: "nope": no such cluster in the clusters Secret; known clusters: analytics, main`},
		{name: "alias without a default cluster", cluster: "default", clusters: postgres.Clusters{"a": {Name: "a"}},
			wantErr: `spec.database.cluster: Invalid value: "default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := validateCluster(instance(tt.cluster, ""), tt.clusters, "default")
			if tt.wantErr == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs.ToAggregate().Error()).To(ContainSubstring(tt.wantErr))
		})
	}
}

func moving(inst *odoov1alpha2.OdooInstance) *odoov1alpha2.OdooInstance {
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Cluster: "main", Initialized: true, Move: &odoov1alpha2.DatabaseMove{
		Phase: odoov1alpha2.DatabaseMoveMoving, Step: odoov1alpha2.DatabaseMoveStepDump, SourceCluster: "main", TargetCluster: "third"}}
	return inst
}

func failedMove(inst *odoov1alpha2.OdooInstance) *odoov1alpha2.OdooInstance {
	inst = moving(inst)
	inst.Status.Database.Move.Phase, inst.Status.Database.Move.Step = odoov1alpha2.DatabaseMoveFailed, ""
	return inst
}

func TestValidateTransition(t *testing.T) {
	tests := []struct {
		name     string
		old, new *odoov1alpha2.OdooInstance
		clusters postgres.Clusters
		wantErr  []string
	}{
		{name: "nothing changes", old: instance("main", "2Gi"), new: instance("main", "2Gi"), clusters: clusters},
		{name: "filestore grows", old: instance("main", "2Gi"), new: instance("main", "10Gi"), clusters: clusters},
		{name: "filestore shrinks", old: instance("main", "10Gi"), new: instance("main", "5Gi"), clusters: clusters,
			wantErr: []string{"spec.filestore.storageSize: Forbidden: cannot shrink from 10Gi to 5Gi: volumes only grow"}},
		{name: "same size written differently", old: instance("main", "1Gi"), new: instance("main", "1024Mi"), clusters: clusters},
		{name: "cluster moves", old: instance("main", ""), new: instance("analytics", ""), clusters: clusters},
		{name: "no second move while one runs", old: moving(instance("main", "")), new: instance("analytics", ""), clusters: clusters,
			wantErr: []string{`spec.database.cluster: Forbidden: cannot change from "main" to "analytics" while the database moves from cluster "main" to "third" (step Dump)`}},
		{name: "a failed move does not block the next", old: failedMove(instance("main", "")), new: instance("analytics", ""), clusters: clusters},
		{name: "empty to the default's name is no move", old: instance("", ""), new: instance("main", ""), clusters: clusters},
		{name: "legacy alias to the default's name is no move", old: instance("default", ""), new: instance("main", ""), clusters: clusters},
		{name: "empty to another cluster during a move", old: moving(instance("", "")), new: instance("analytics", ""), clusters: clusters,
			wantErr: []string{"spec.database.cluster: Forbidden"}},
		{name: "empty to the default's name during a move is no move", old: moving(instance("", "")), new: instance("main", ""), clusters: clusters},
		{name: "without a clusters Secret, empty and the alias are the same", old: instance("", ""), new: instance("default", ""), clusters: nil},
		{name: "both at once", old: moving(instance("main", "10Gi")), new: instance("analytics", "1Gi"), clusters: clusters,
			wantErr: []string{"spec.database.cluster: Forbidden", "spec.filestore.storageSize: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := validateTransition(tt.old, tt.new, tt.clusters, "default")
			if len(tt.wantErr) == 0 {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs).To(HaveLen(len(tt.wantErr)))
			msg := errs.ToAggregate().Error()
			for _, w := range tt.wantErr {
				g.Expect(msg).To(ContainSubstring(w))
			}
		})
	}
}

func TestValidateTransitionDuringFilestoreMigration(t *testing.T) {
	withClass := func(class string, phase odoov1alpha2.FilestoreMigrationPhase) *odoov1alpha2.OdooInstance {
		inst := instance("main", "2Gi")
		inst.Spec.Filestore.StorageClass = class
		if phase != "" {
			inst.Status.Filestore = &odoov1alpha2.FilestoreStatus{Migration: &odoov1alpha2.FilestoreMigration{
				Phase: phase, TargetStorageClass: class, JobName: "shop-fsmigrate-1234abcd"}}
		}
		return inst
	}
	tests := []struct {
		name     string
		old, new *odoov1alpha2.OdooInstance
		wantErr  string
	}{
		{name: "class change without a migration", old: withClass("slow", ""), new: withClass("fast", "")},
		{name: "class change while copying", old: withClass("fast", odoov1alpha2.FilestoreMigrationCopying), new: withClass("faster", ""),
			wantErr: `spec.filestore.storageClass: Forbidden: cannot change to "faster" while the filestore is being migrated to "fast" (Job shop-fsmigrate-1234abcd)`},
		{name: "other edits while copying", old: withClass("fast", odoov1alpha2.FilestoreMigrationCopying), new: withClass("fast", "")},
		{name: "class change after a failed migration", old: withClass("fast", odoov1alpha2.FilestoreMigrationFailed), new: withClass("faster", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := validateTransition(tt.old, tt.new, clusters, "default")
			if tt.wantErr == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs).To(HaveLen(1))
			g.Expect(errs.ToAggregate().Error()).To(ContainSubstring(tt.wantErr))
		})
	}
}

func TestWarnings(t *testing.T) {
	g := NewWithT(t)
	inst := instance("", "")
	g.Expect(warnings(inst)).To(BeEmpty())
	inst.Spec.AdminPassword = "x"
	g.Expect(strings.Join(warnings(inst), "")).To(ContainSubstring("prefer spec.adminPasswordSecretRef"))
}

// A webhook URL at a literal internal address is refused at admission,
// naming the field but not echoing the URL (its path may be a token).
func TestValidateWebhookURL(t *testing.T) {
	sandbox, err := egress.Parse([]string{"127.0.0.1/32:31000-31999"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, want string
	}{
		{"https://hooks.example.com/odoo?token=abc", ""},
		{"http://127.0.0.1:31500/hook", ""},
		{"https://127.0.0.1:6443/api/v1/secrets?token=abc", "loopback"},
		{"http://169.254.169.254/latest", "link-local"},
		{"http://[::ffff:10.0.0.1]/x", "private"},
		{"http://localhost:6443/x", ""}, // a name: judged when resolved and connected
	} {
		inst := &odoov1alpha2.OdooInstance{}
		inst.Spec.Webhook = &odoov1alpha2.WebhookSpec{URL: tc.url}
		errs := validateWebhookURL(inst, sandbox)
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s: %v", tc.url, errs)
		case tc.want != "" && (len(errs) != 1 || errs[0].Field != "spec.webhook.url" || !strings.Contains(errs[0].Error(), tc.want) || strings.Contains(errs[0].Error(), "token")):
			t.Errorf("%s: %v, want a spec.webhook.url error saying %q without the URL", tc.url, errs, tc.want)
		}
	}
}

func TestValidateDatabaseName(t *testing.T) {
	inUse := func(spec, status string) *odoov1alpha2.OdooInstance {
		inst := instance("", "")
		inst.Spec.Database.Name = spec
		if status != "" {
			inst.Status.Database = &odoov1alpha2.DatabaseStatus{Name: status, Initialized: true}
		}
		return inst
	}
	tests := []struct {
		name     string
		old, new *odoov1alpha2.OdooInstance
		wantErr  string
	}{
		{name: "unchanged", old: inUse("shop", "shop"), new: inUse("shop", "shop")},
		{name: "unchanged default", old: inUse("", "ns_shop"), new: inUse("", "ns_shop")},
		{name: "set to the name in use", old: inUse("", "ns_shop"), new: inUse("ns_shop", "ns_shop")},
		{name: "removed once recorded", old: inUse("shop", "shop"), new: inUse("", "shop")},
		{name: "set later to another name", old: inUse("", "ns_shop"), new: inUse("keycloak", "ns_shop"),
			wantErr: `spec.database.name: Forbidden: cannot change from "" to "keycloak": it can be set only when the instance is created; the database in use is "ns_shop"; set it back to "ns_shop"`},
		{name: "changed", old: inUse("a", "a"), new: inUse("b", "a"),
			wantErr: `spec.database.name: Forbidden: cannot change from "a" to "b"`},
		{name: "changed before the name is recorded", old: inUse("a", ""), new: inUse("b", ""),
			wantErr: `cannot change from "a" to "b": it can be set only when the instance is created; set it back to "a"`},
		{name: "removed before the name is recorded", old: inUse("a", ""), new: inUse("", ""),
			wantErr: `spec.database.name: Forbidden`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := validateTransition(tt.old, tt.new, clusters, "default")
			if tt.wantErr == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs.ToAggregate().Error()).To(ContainSubstring(tt.wantErr))
		})
	}
}

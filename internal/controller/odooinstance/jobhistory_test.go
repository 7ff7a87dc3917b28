package odooinstance

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestJobsBeyondHistory(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entry := func(kind, name string, minute int, done, protected bool) historyEntry {
		b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(base.Add(time.Duration(minute) * time.Minute))}}
		return historyEntry{obj: b, kind: kind, finished: done, protected: protected}
	}
	all := []historyEntry{
		entry("OdooBackupJob", "b1", 1, true, false),
		entry("OdooBackupJob", "b2", 2, true, false),
		entry("OdooBackupJob", "b3-running", 3, false, false),
		entry("OdooBackupJob", "b4", 4, true, false),
		entry("OdooBackupJob", "b5-scheduled", 0, true, true),
		entry("OdooBackupJob", "b6", 6, true, false),
		entry("OdooRestoreJob", "r1", 1, true, false),
		entry("OdooRestoreJob", "r2", 2, true, false),
		entry("OdooRestoreJob", "r3-pending", 0, false, false),
	}
	names := func(objs []client.Object) []string {
		out := []string{}
		for _, o := range objs {
			out = append(out, o.GetName())
		}
		return out
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"no limit", 0, []string{}},
		{"negative", -1, []string{}},
		{"keep 2 of each kind: running, pending and protected are not counted nor deleted", 2, []string{"b1", "b2"}},
		{"keep 1", 1, []string{"b1", "r1", "b2", "b4"}},
		{"keep more than there are", 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(names(jobsBeyondHistory(all, tt.limit))).To(Equal(tt.want))
		})
	}
}

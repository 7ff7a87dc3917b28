package odooinstance

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func TestStaleRestorePoints(t *testing.T) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	point := func(name string, days int, phase odoov1alpha2.JobPhase, mods ...func(*odoov1alpha2.OdooBackupJob)) odoov1alpha2.OdooBackupJob {
		b := odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
			CreationTimestamp: metav1.NewTime(day.Add(time.Duration(days) * 24 * time.Hour)),
			Labels:            map[string]string{resources.LabelRestorePoint: "true"}}}
		b.Status.Phase = phase
		for _, m := range mods {
			m(&b)
		}
		return b
	}
	done, failed, running := odoov1alpha2.JobCompleted, odoov1alpha2.JobFailed, odoov1alpha2.JobRunning
	scheduled := func(b *odoov1alpha2.OdooBackupJob) { delete(b.Labels, resources.LabelRestorePoint) }
	marked := func(b *odoov1alpha2.OdooBackupJob) {
		b.Annotations = map[string]string{odoov1alpha2.AnnotationPrune: odoov1alpha2.PruneRetention}
	}
	cases := []struct {
		name    string
		backups []odoov1alpha2.OdooBackupJob
		current string
		want    []string
	}{
		{name: "none", want: nil},
		{name: "three kept", backups: []odoov1alpha2.OdooBackupJob{point("a", 1, done), point("b", 2, done), point("c", 3, done)}, want: nil},
		{name: "the oldest beyond three go, newest first kept",
			backups: []odoov1alpha2.OdooBackupJob{point("a", 1, done), point("e", 5, done), point("b", 2, failed), point("d", 4, done), point("c", 3, done)},
			want:    []string{"b", "a"}},
		{name: "the last upgrade's own restore point is never pruned, however old",
			backups: []odoov1alpha2.OdooBackupJob{point("a", 1, done), point("b", 2, done), point("c", 3, done), point("d", 4, done)},
			current: "a", want: nil},
		{name: "a running backup is never pruned",
			backups: []odoov1alpha2.OdooBackupJob{point("a", 1, running), point("b", 2, done), point("c", 3, done), point("d", 4, done)}, want: nil},
		{name: "scheduled backups are not restore points",
			backups: []odoov1alpha2.OdooBackupJob{point("s1", 0, done, scheduled), point("s2", 0, done, scheduled), point("a", 1, done), point("b", 2, done), point("c", 3, done)},
			want:    nil},
		{name: "already marked ones are neither counted nor marked again",
			backups: []odoov1alpha2.OdooBackupJob{point("z", 9, done, marked), point("a", 1, done), point("b", 2, done), point("c", 3, done), point("d", 4, done)},
			want:    []string{"a"}},
		{name: "same creation time: the greater name is newer",
			backups: []odoov1alpha2.OdooBackupJob{point("a", 1, done), point("b", 1, done), point("c", 1, done), point("d", 1, done)},
			want:    []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, b := range staleRestorePoints(c.backups, c.current, 3) {
				got = append(got, b.Name)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("stale %v, want %v", got, c.want)
			}
		})
	}
}

package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func quantity(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

func filestore(size string, class string, mode corev1.PersistentVolumeAccessMode) func(*odoov1alpha2.OdooInstance) {
	return func(i *odoov1alpha2.OdooInstance) {
		i.Spec.Filestore.StorageClass = class
		i.Spec.Filestore.AccessMode = mode
		if size != "" {
			i.Spec.Filestore.StorageSize = quantity(size)
		}
	}
}

func webReplicas(n int32) func(*odoov1alpha2.OdooInstance) {
	return func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To(n) }
}

// existingClaim is a bound claim as the API server returns it.
func existingClaim(size string, class *string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes:      modes,
		StorageClassName: class,
	}}
	if size != "" {
		pvc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	}
	pvc.Name, pvc.Namespace = "shop-filestore-pvc", "prod"
	return pvc
}

func TestFilestorePVC(t *testing.T) {
	rwo, rwx := corev1.ReadWriteOnce, corev1.ReadWriteMany
	tests := []struct {
		name      string
		mutate    []func(*odoov1alpha2.OdooInstance)
		existing  *corev1.PersistentVolumeClaim
		wantSize  string
		wantClass *string
		wantModes []corev1.PersistentVolumeAccessMode
	}{
		{
			name:     "new claim with defaults: 2Gi, RWO, cluster default class",
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "new claim with size and class",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("10Gi", "fast", "")},
			wantSize: "10Gi", wantClass: ptr.To("fast"), wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "new claim, several web pods: RWX chosen",
			mutate:   []func(*odoov1alpha2.OdooInstance){webReplicas(3)},
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwx},
		},
		{
			name:     "new claim, one web pod: RWO chosen",
			mutate:   []func(*odoov1alpha2.OdooInstance){webReplicas(1)},
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "new claim, web stopped: RWO chosen",
			mutate:   []func(*odoov1alpha2.OdooInstance){webReplicas(0)},
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "new claim, explicit RWX with one pod wins",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("", "", rwx), webReplicas(1)},
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwx},
		},
		{
			name:     "new claim, explicit RWO with several pods wins",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("", "", rwo), webReplicas(3)},
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "existing claim keeps class and modes and never shrinks",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("2Gi", "fast", rwx), webReplicas(3)},
			existing: existingClaim("5Gi", ptr.To("standard"), rwo),
			wantSize: "5Gi", wantClass: ptr.To("standard"), wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "existing claim grows to a larger spec",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("20Gi", "", "")},
			existing: existingClaim("5Gi", ptr.To("standard"), rwo),
			wantSize: "20Gi", wantClass: ptr.To("standard"), wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "existing claim at the spec size is unchanged",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("5120Mi", "", "")},
			existing: existingClaim("5Gi", ptr.To("standard"), rwx),
			wantSize: "5Gi", wantClass: ptr.To("standard"), wantModes: []corev1.PersistentVolumeAccessMode{rwx},
		},
		{
			name:     "existing claim without a class does not get one",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("", "fast", "")},
			existing: existingClaim("2Gi", nil, rwo),
			wantSize: "2Gi", wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
		{
			name:     "existing claim with several access modes keeps them all",
			existing: existingClaim("2Gi", ptr.To("nfs"), rwx, rwo),
			wantSize: "2Gi", wantClass: ptr.To("nfs"), wantModes: []corev1.PersistentVolumeAccessMode{rwx, rwo},
		},
		{
			name:     "existing claim without a size request gets the spec size",
			mutate:   []func(*odoov1alpha2.OdooInstance){filestore("3Gi", "", "")},
			existing: existingClaim("", ptr.To("standard"), rwo),
			wantSize: "3Gi", wantClass: ptr.To("standard"), wantModes: []corev1.PersistentVolumeAccessMode{rwo},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate...)
			var before *corev1.PersistentVolumeClaim
			if tt.existing != nil {
				before = tt.existing.DeepCopy()
			}
			pvc := convert[corev1.PersistentVolumeClaim](t, FilestorePVC(inst, FilestorePVCName(inst), inst.Spec.Filestore.StorageClass, tt.existing))

			g.Expect(pvc.Name).To(Equal("shop-filestore-pvc"))
			g.Expect(pvc.Namespace).To(Equal("prod"))
			g.Expect(pvc.Labels).To(Equal(Labels(inst, "filestore")))
			g.Expect(pvc.OwnerReferences).To(BeEmpty(), "the claim is not garbage-collected with the instance: deletionPolicy decides")
			size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			g.Expect(size.Cmp(resource.MustParse(tt.wantSize))).To(Equal(0), "size %s, want %s", size.String(), tt.wantSize)
			g.Expect(pvc.Spec.Resources.Limits).To(BeEmpty())
			g.Expect(pvc.Spec.StorageClassName).To(Equal(tt.wantClass))
			g.Expect(pvc.Spec.AccessModes).To(Equal(tt.wantModes))
			if tt.existing != nil {
				g.Expect(tt.existing).To(Equal(before), "the existing claim is not modified")
			}
		})
	}
}

func TestFilestoreClassDrift(t *testing.T) {
	tests := []struct {
		name      string
		specClass string
		existing  *corev1.PersistentVolumeClaim
		wantDrift bool
		wantWant  string
		wantHave  string
	}{
		{name: "no claim yet", specClass: "fast", existing: nil},
		{name: "no class in spec", specClass: "", existing: existingClaim("2Gi", ptr.To("standard"), corev1.ReadWriteOnce)},
		{name: "same class", specClass: "fast", existing: existingClaim("2Gi", ptr.To("fast"), corev1.ReadWriteOnce),
			wantWant: "fast", wantHave: "fast"},
		{name: "different class", specClass: "fast", existing: existingClaim("2Gi", ptr.To("standard"), corev1.ReadWriteOnce),
			wantDrift: true, wantWant: "fast", wantHave: "standard"},
		{name: "claim without class", specClass: "fast", existing: existingClaim("2Gi", nil, corev1.ReadWriteOnce),
			wantDrift: true, wantWant: "fast", wantHave: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(filestore("", tt.specClass, ""))
			want, have, drift := FilestoreClassDrift(inst, tt.existing)
			g.Expect(drift).To(Equal(tt.wantDrift))
			g.Expect(want).To(Equal(tt.wantWant))
			g.Expect(have).To(Equal(tt.wantHave))
		})
	}
}

func TestFilestoreShrinkRequested(t *testing.T) {
	tests := []struct {
		name          string
		specSize      string
		existing      *corev1.PersistentVolumeClaim
		wantShrink    bool
		wantRequested string
		wantCurrent   string
	}{
		{name: "no claim yet", specSize: "1Gi", existing: nil},
		{name: "smaller spec", specSize: "1Gi", existing: existingClaim("5Gi", nil, corev1.ReadWriteOnce),
			wantShrink: true, wantRequested: "1Gi", wantCurrent: "5Gi"},
		{name: "default spec below the claim", specSize: "", existing: existingClaim("5Gi", nil, corev1.ReadWriteOnce),
			wantShrink: true, wantRequested: "2Gi", wantCurrent: "5Gi"},
		{name: "equal, in other units", specSize: "5120Mi", existing: existingClaim("5Gi", nil, corev1.ReadWriteOnce),
			wantRequested: "5Gi", wantCurrent: "5Gi"},
		{name: "larger spec grows", specSize: "10Gi", existing: existingClaim("5Gi", nil, corev1.ReadWriteOnce),
			wantRequested: "10Gi", wantCurrent: "5Gi"},
		{name: "claim without a size request", specSize: "1Gi", existing: existingClaim("", nil, corev1.ReadWriteOnce),
			wantRequested: "1Gi", wantCurrent: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(filestore(tt.specSize, "", ""))
			requested, current, shrink := FilestoreShrinkRequested(inst, tt.existing)
			g.Expect(shrink).To(Equal(tt.wantShrink))
			if tt.existing == nil {
				g.Expect(requested.IsZero()).To(BeTrue())
				g.Expect(current.IsZero()).To(BeTrue())
				return
			}
			g.Expect(requested.Cmp(resource.MustParse(tt.wantRequested))).To(Equal(0), "requested %s", requested.String())
			g.Expect(current.Cmp(resource.MustParse(tt.wantCurrent))).To(Equal(0), "current %s", current.String())
		})
	}
}

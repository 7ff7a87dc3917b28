package resources

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestFilestoreMigrationNames(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance()
	g.Expect(FilestoreClaimName(inst)).To(Equal("shop-filestore-pvc"))
	inst.Status.Filestore = &odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-0a1b2c3d"}
	g.Expect(FilestoreClaimName(inst)).To(Equal("shop-filestore-0a1b2c3d"))

	a := FilestoreTargetClaimName(inst, "shop-filestore-pvc", "fast")
	g.Expect(a).To(MatchRegexp(`^shop-filestore-[0-9a-f]{8}$`))
	g.Expect(FilestoreTargetClaimName(inst, "shop-filestore-pvc", "fast")).To(Equal(a), "deterministic")
	g.Expect(FilestoreTargetClaimName(inst, "shop-filestore-pvc", "slow")).NotTo(Equal(a), "per class")
	g.Expect(FilestoreTargetClaimName(inst, a, "fast")).NotTo(Equal(a), "back and forth never reuses a claim")

	j := FilestoreCopyJobName(inst, "shop-filestore-pvc", a)
	g.Expect(j).To(MatchRegexp(`^shop-fsmigrate-[0-9a-f]{8}$`))
	g.Expect(FilestoreCopyJobName(inst, "shop-filestore-pvc", a)).To(Equal(j))

	long := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Name = strings.Repeat("a", 60) })
	g.Expect(len(FilestoreTargetClaimName(long, "x", "fast"))).To(BeNumerically("<=", 63))
	g.Expect(len(FilestoreCopyJobName(long, "x", "y"))).To(BeNumerically("<=", 63))
}

func TestFilestoreTargetPVC(t *testing.T) {
	rwo := corev1.ReadWriteOnce
	tests := []struct {
		name      string
		inst      *odoov1alpha2.OdooInstance
		source    *corev1.PersistentVolumeClaim
		wantSize  string
		wantModes []corev1.PersistentVolumeAccessMode
	}{
		{"spec size when the source is smaller", newInstance(filestore("10Gi", "slow", "")), existingClaim("5Gi", ptr.To("slow"), rwo), "10Gi", []corev1.PersistentVolumeAccessMode{rwo}},
		{"source size when larger than the spec", newInstance(filestore("1Gi", "slow", "")), existingClaim("5Gi", ptr.To("slow"), rwo), "5Gi", []corev1.PersistentVolumeAccessMode{rwo}},
		{"no source: from the spec", newInstance(filestore("3Gi", "", ""), webReplicas(2)), nil, "3Gi", []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			pvc := convert[corev1.PersistentVolumeClaim](t, FilestoreTargetPVC(tt.inst, "shop-filestore-1234abcd", "fast", tt.source))
			g.Expect(pvc.Name).To(Equal("shop-filestore-1234abcd"))
			g.Expect(*pvc.Spec.StorageClassName).To(Equal("fast"))
			size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			g.Expect(size.Cmp(resource.MustParse(tt.wantSize))).To(BeZero(), size.String())
			g.Expect(pvc.Spec.AccessModes).To(Equal(tt.wantModes))
			g.Expect(pvc.OwnerReferences).To(BeEmpty(), "the claim is not garbage-collected with the instance: deletionPolicy decides")
		})
	}
}

func TestFilestorePVCTakesItsName(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(filestore("2Gi", "fast", ""))
	pvc := convert[corev1.PersistentVolumeClaim](t, FilestorePVC(inst, "shop-filestore-1234abcd", "slow", nil))
	g.Expect(pvc.Name).To(Equal("shop-filestore-1234abcd"))
	g.Expect(*pvc.Spec.StorageClassName).To(Equal("slow"))
}

func TestFilestoreCopyJob(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*odoov1alpha2.OdooInstance)
		wantImage string
	}{
		{"instance image", func(*odoov1alpha2.OdooInstance) {}, "odoo:18.0"},
		{"annotation overrides the image", func(i *odoov1alpha2.OdooInstance) {
			i.Annotations = map[string]string{odoov1alpha2.AnnotationMigrationImage: "odoo:18.0-broken"}
		}, "odoo:18.0-broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Image = "odoo:18.0" }, tt.mutate)
			job := convert[batchv1.Job](t, FilestoreCopyJob(CopyInputs{
				Instance: inst, Name: "shop-fsmigrate-1", Image: MigrationImage(inst), Source: "shop-filestore-pvc", Target: "shop-filestore-1",
			}))
			g.Expect(job.Name).To(Equal("shop-fsmigrate-1"))
			g.Expect(job.Labels).To(HaveKeyWithValue(JobKindLabel, JobKindFilestoreMigration))
			g.Expect(*job.Spec.BackoffLimit).To(BeZero())
			expectOwnedBy(g, job.OwnerReferences, inst)
			pod := job.Spec.Template.Spec
			g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
			g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
			g.Expect(*pod.SecurityContext.FSGroup).To(Equal(int64(101)))
			g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
			c := pod.Containers[0]
			g.Expect(c.Image).To(Equal(tt.wantImage))
			g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
			g.Expect(c.SecurityContext.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")))
			g.Expect(c.Command[:2]).To(Equal([]string{"sh", "-c"}))
			g.Expect(c.Command[2]).To(And(ContainSubstring("cp -a"), ContainSubstring("md5sum"), ContainSubstring("cmp /tmp/old.md5 /tmp/new.md5")))
			g.Expect(pod.Volumes).To(HaveLen(2))
			g.Expect(pod.Volumes[0].PersistentVolumeClaim.ClaimName).To(Equal("shop-filestore-pvc"))
			g.Expect(pod.Volumes[0].PersistentVolumeClaim.ReadOnly).To(BeTrue())
			g.Expect(pod.Volumes[1].PersistentVolumeClaim.ClaimName).To(Equal("shop-filestore-1"))
		})
	}
}

func TestWorkloadsMountTheClaimInUse(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance()
	in := WorkloadInputs{Instance: inst, WebImage: "odoo:18.0", CronImage: "odoo:18.0", ConfHash: "h"}
	claim := func(in WorkloadInputs) string {
		d := convert[appsv1.Deployment](t, WebDeployment(in))
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName
			}
		}
		return ""
	}
	g.Expect(claim(in)).To(Equal("shop-filestore-pvc"))
	inst.Status.Filestore = &odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-1"}
	g.Expect(claim(in)).To(Equal("shop-filestore-1"))
	in.FilestoreClaim = "explicit"
	g.Expect(claim(in)).To(Equal("explicit"))
	job := convert[batchv1.Job](t, InitJob(InitInputs{Instance: inst, Image: "odoo:18.0", Database: "db"}))
	g.Expect(job.Spec.Template.Spec.Volumes[1].PersistentVolumeClaim.ClaimName).To(Equal("shop-filestore-1"))
}

package v1alpha2

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func instanceWith(spec OdooInstanceSpec) *OdooInstance {
	return &OdooInstance{Spec: spec}
}

func TestWebReplicas(t *testing.T) {
	tests := []struct {
		name     string
		replicas *int32
		want     int32
	}{
		{name: "unset defaults to 1", replicas: nil, want: 1},
		{name: "zero stops the web tier", replicas: ptr.To[int32](0), want: 0},
		{name: "one", replicas: ptr.To[int32](1), want: 1},
		{name: "three", replicas: ptr.To[int32](3), want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Replicas: tt.replicas}).WebReplicas()).To(Equal(tt.want))
		})
	}
}

func TestCronReplicas(t *testing.T) {
	tests := []struct {
		name     string
		replicas *int32
		web      *int32
		want     int32
	}{
		{name: "unset defaults to 1", want: 1},
		{name: "unset does not follow web replicas", web: ptr.To[int32](5), want: 1},
		{name: "zero pauses cron", replicas: ptr.To[int32](0), want: 0},
		{name: "two", replicas: ptr.To[int32](2), want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := instanceWith(OdooInstanceSpec{Replicas: tt.web, Cron: CronSpec{Replicas: tt.replicas}})
			g.Expect(inst.CronReplicas()).To(Equal(tt.want))
		})
	}
}

func TestCronMaxThreads(t *testing.T) {
	tests := []struct {
		name    string
		threads *int32
		want    int32
	}{
		{name: "unset defaults to 1", want: 1},
		{name: "zero is not a valid thread count: default", threads: ptr.To[int32](0), want: 1},
		{name: "negative: default", threads: ptr.To[int32](-4), want: 1},
		{name: "one", threads: ptr.To[int32](1), want: 1},
		{name: "four", threads: ptr.To[int32](4), want: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Cron: CronSpec{MaxCronThreads: tt.threads}}).CronMaxThreads()).To(Equal(tt.want))
		})
	}
}

func TestCronImage(t *testing.T) {
	tests := []struct {
		name  string
		image string
		cron  string
		want  string
	}{
		{name: "defaults to spec.image", image: "odoo:18.0", want: "odoo:18.0"},
		{name: "explicit cron image", image: "odoo:18.0", cron: "odoo:18.0-cron", want: "odoo:18.0-cron"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Image: tt.image, Cron: CronSpec{Image: tt.cron}}).CronImage()).To(Equal(tt.want))
		})
	}
}

func TestWorkers(t *testing.T) {
	tests := []struct {
		name    string
		workers *intstr.IntOrString
		options map[string]ConfigValue
		want    int32
	}{
		{name: "unset: threaded mode", want: 0},
		{name: "int", workers: ptr.To(intstr.FromInt32(4)), want: 4},
		{name: "int zero", workers: ptr.To(intstr.FromInt32(0)), want: 0},
		{name: "string", workers: ptr.To(intstr.FromString("5")), want: 5},
		{name: "string with leading zero", workers: ptr.To(intstr.FromString("007")), want: 7},
		{name: "invalid string", workers: ptr.To(intstr.FromString("five")), want: 0},
		{name: "empty string", workers: ptr.To(intstr.FromString("")), want: 0},
		{name: "string with spaces", workers: ptr.To(intstr.FromString(" 5")), want: 0},
		{name: "percentage string", workers: ptr.To(intstr.FromString("50%")), want: 0},
		{name: "negative int", workers: ptr.To(intstr.FromInt32(-3)), want: 0},
		{name: "negative string", workers: ptr.To(intstr.FromString("-3")), want: 0},
		{name: "string beyond int32", workers: ptr.To(intstr.FromString("3000000000")), want: 0},
		{name: "configOptions fallback", options: map[string]ConfigValue{"workers": "6"}, want: 6},
		{name: "configOptions invalid", options: map[string]ConfigValue{"workers": "many"}, want: 0},
		{name: "configOptions negative", options: map[string]ConfigValue{"workers": "-1"}, want: 0},
		{name: "configOptions without workers", options: map[string]ConfigValue{"limit_time_real": "600"}, want: 0},
		{name: "spec wins over configOptions", workers: ptr.To(intstr.FromInt32(2)), options: map[string]ConfigValue{"workers": "6"}, want: 2},
		{name: "spec zero wins over configOptions", workers: ptr.To(intstr.FromInt32(0)), options: map[string]ConfigValue{"workers": "6"}, want: 0},
		{name: "spec string wins over configOptions", workers: ptr.To(intstr.FromString("3")), options: map[string]ConfigValue{"workers": "6"}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Workers: tt.workers, ConfigOptions: tt.options}).Workers()).To(Equal(tt.want))
		})
	}
}

func TestProbeEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string
	}{
		{endpoint: "", want: "/web/health"},
		{endpoint: "/web/login", want: "/web/login"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Probes: ProbesSpec{Endpoint: tt.endpoint}}).ProbeEndpoint()).To(Equal(tt.want))
		})
	}
}

func TestStorageSize(t *testing.T) {
	tests := []struct {
		name string
		size *resource.Quantity
		want string
	}{
		{name: "unset defaults to 2Gi", want: "2Gi"},
		{name: "explicit", size: ptr.To(resource.MustParse("50Gi")), want: "50Gi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := instanceWith(OdooInstanceSpec{Filestore: FilestoreSpec{StorageSize: tt.size}})
			got := inst.StorageSize()
			g.Expect(got.Cmp(resource.MustParse(tt.want))).To(Equal(0), "got %s", got.String())
			if tt.size != nil {
				// The result is a copy: changing it leaves the spec alone.
				got.Add(resource.MustParse("1Gi"))
				g.Expect(tt.size.Cmp(resource.MustParse(tt.want))).To(Equal(0))
			}
		})
	}
}

func TestFilestoreAccessMode(t *testing.T) {
	tests := []struct {
		name     string
		mode     corev1.PersistentVolumeAccessMode
		replicas *int32
		want     corev1.PersistentVolumeAccessMode
	}{
		{name: "unset, default replicas", want: corev1.ReadWriteOnce},
		{name: "unset, one replica", replicas: ptr.To[int32](1), want: corev1.ReadWriteOnce},
		{name: "unset, zero replicas", replicas: ptr.To[int32](0), want: corev1.ReadWriteOnce},
		{name: "unset, two replicas", replicas: ptr.To[int32](2), want: corev1.ReadWriteMany},
		{name: "explicit RWX, one replica", mode: corev1.ReadWriteMany, replicas: ptr.To[int32](1), want: corev1.ReadWriteMany},
		{name: "explicit RWO wins over replicas", mode: corev1.ReadWriteOnce, replicas: ptr.To[int32](3), want: corev1.ReadWriteOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := instanceWith(OdooInstanceSpec{Replicas: tt.replicas, Filestore: FilestoreSpec{AccessMode: tt.mode}})
			g.Expect(inst.FilestoreAccessMode()).To(Equal(tt.want))
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name    string
		ingress *IngressSpec
		want    string
	}{
		{name: "no ingress", want: ""},
		{name: "no hosts", ingress: &IngressSpec{}, want: ""},
		{name: "first host", ingress: &IngressSpec{Hosts: []Hostname{"shop.example.com", "www.shop.example.com"}}, want: "https://shop.example.com"},
		{name: "with issuer", ingress: &IngressSpec{Hosts: []Hostname{"shop.example.com"}, Issuer: "letsencrypt"}, want: "https://shop.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(instanceWith(OdooInstanceSpec{Ingress: tt.ingress}).URL()).To(Equal(tt.want))
		})
	}
}

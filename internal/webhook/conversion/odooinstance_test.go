package conversion

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utildiff "k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func expectSemanticEqual(g Gomega, got, want any) {
	g.Expect(apiequality.Semantic.DeepEqual(want, got)).To(BeTrue(), "(-want +got):\n%s", utildiff.Diff(want, got))
}

func stashOf(g Gomega, obj metav1.Object) stash {
	raw, ok := obj.GetAnnotations()[DataAnnotation]
	g.Expect(ok).To(BeTrue(), "no %s annotation", DataAnnotation)
	var s stash
	g.Expect(json.Unmarshal([]byte(raw), &s)).To(Succeed())
	return s
}

func TestUpConversionFillsLegacyDefaults(t *testing.T) {
	tests := []struct {
		name         string
		opts         Options
		spec         odoov1alpha1.OdooInstanceSpec
		cluster      string
		storageClass string
		endpoint     string
		strategy     odoov1alpha2.StrategyType
	}{
		{
			name:    "nothing set: the roadmap's values",
			spec:    odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0"},
			cluster: "default", storageClass: "cephfs", endpoint: "/web/health", strategy: odoov1alpha2.StrategyRecreate,
		},
		{
			name:    "empty objects count as absent",
			spec:    odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0", Database: &odoov1alpha1.DatabaseSpec{}, Filestore: &odoov1alpha1.FilestoreSpec{}, Probes: &odoov1alpha1.ProbesSpec{}, Strategy: &odoov1alpha1.StrategySpec{}},
			cluster: "default", storageClass: "cephfs", endpoint: "/web/health", strategy: odoov1alpha2.StrategyRecreate,
		},
		{
			name:    "the operator's flags",
			spec:    odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0"},
			opts:    Options{DefaultCluster: "main", DefaultStorageClass: "rook-cephfs"},
			cluster: "main", storageClass: "rook-cephfs", endpoint: "/web/health", strategy: odoov1alpha2.StrategyRecreate,
		},
		{
			name:    "the readiness path becomes the endpoint",
			spec:    odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0", Probes: &odoov1alpha1.ProbesSpec{StartupPath: "/web/health", LivenessPath: "/web/health", ReadinessPath: "/health/ready"}},
			cluster: "default", storageClass: "cephfs", endpoint: "/health/ready", strategy: odoov1alpha2.StrategyRecreate,
		},
		{
			name: "values set are kept",
			opts: Options{DefaultCluster: "main", DefaultStorageClass: "rook-cephfs"},
			spec: odoov1alpha1.OdooInstanceSpec{
				Image:     "odoo:17.0",
				Database:  &odoov1alpha1.DatabaseSpec{Cluster: "pg-2"},
				Filestore: &odoov1alpha1.FilestoreSpec{StorageClass: "standard"},
				Strategy:  &odoov1alpha1.StrategySpec{Type: "RollingUpdate"},
			},
			cluster: "pg-2", storageClass: "standard", endpoint: "/web/health", strategy: odoov1alpha2.StrategyRollingUpdate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := &instanceConverter{opts: tt.opts}
			spoke := &odoov1alpha1.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "odoo"}, Spec: tt.spec}
			hub := &odoov1alpha2.OdooInstance{}
			g.Expect(c.v1alpha1ToHub(context.Background(), spoke, hub)).To(Succeed())
			g.Expect(hub.Spec.Database.Cluster).To(Equal(tt.cluster))
			g.Expect(hub.Spec.Filestore.StorageClass).To(Equal(tt.storageClass))
			g.Expect(hub.Spec.Probes.Endpoint).To(Equal(tt.endpoint))
			g.Expect(hub.Spec.Strategy.Type).To(Equal(tt.strategy))

			// The fills do not show when the object is read back as written.
			back := &odoov1alpha1.OdooInstance{}
			g.Expect(c.hubToV1alpha1(context.Background(), hub, back)).To(Succeed())
			expectSemanticEqual(g, back, spoke)
		})
	}
}

func readExample(t *testing.T) *odoov1.OdooInstance {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "example-odooinstance-v1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	obj := &odoov1.OdooInstance{}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestLegacyExample converts the reference operator's documented v1 example.
func TestLegacyExample(t *testing.T) {
	hubSchema := structural(t, "v1alpha2")
	for _, tt := range []struct {
		name string
		// written is the example as stored: the API server adds the v1 schema's
		// defaults to objects written through v1.
		written func(*odoov1.OdooInstance) *odoov1.OdooInstance
	}{
		{name: "as in the file", written: func(o *odoov1.OdooInstance) *odoov1.OdooInstance { return o }},
		{name: "with the v1 schema defaults", written: func(o *odoov1.OdooInstance) *odoov1.OdooInstance {
			return apiServerDefaults(t, structural(t, "v1"), o)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			example := readExample(t)
			written := tt.written(example.DeepCopy())
			g.Expect(written.APIVersion).To(Equal("bemade.org/v1"))

			hub := toHub(t, written)
			g.Expect(hub.Spec.Image).To(Equal("docker.bemade.org/bemade/odoo18.0e"))
			g.Expect(hub.Spec.AdminPassword).To(Equal("abc123"))
			g.Expect(hub.Spec.Database.Cluster).To(Equal("default"))
			g.Expect(hub.Spec.Filestore.StorageClass).To(Equal("cephfs"))
			g.Expect(hub.Spec.Filestore.StorageSize.String()).To(Equal("2Gi"))
			g.Expect(hub.Spec.Probes.Endpoint).To(Equal("/web/health"))
			g.Expect(hub.Spec.Strategy.Type).To(Equal(odoov1alpha2.StrategyRecreate))
			g.Expect(hub.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
			g.Expect(hub.Spec.Ingress.Hosts).To(Equal([]odoov1alpha2.Hostname{"test.odoo.bemade.org", "test2.odoo.bemade.org"}))
			g.Expect(hub.Spec.Ingress.Issuer).To(Equal("letsencrypt-dns"))
			g.Expect(hub.Spec.ConfigOptions).To(HaveKeyWithValue("addons_path", odoov1alpha2.ConfigValue("/mnt/extra-addons,/mnt/enterprise-addons")))
			// The stash records what was absent; it does not copy the password.
			g.Expect(hub.Annotations[DataAnnotation]).NotTo(ContainSubstring("abc123"))

			// Stored, then read back as v1 (and as v1alpha1, its twin): what was
			// written, without the annotation.
			stored := apiServerDefaults(t, hubSchema, hub)
			back := toV1(t, stored)
			back.TypeMeta = written.TypeMeta
			expectSemanticEqual(g, back, written)
			g.Expect(back.Annotations).NotTo(HaveKey(DataAnnotation))

			alpha := toV1alpha1(t, stored)
			var writtenAlpha odoov1alpha1.OdooInstance
			g.Expect(recode(written, &writtenAlpha)).To(Succeed())
			writtenAlpha.TypeMeta = alpha.TypeMeta
			expectSemanticEqual(g, alpha, &writtenAlpha)
		})
	}
}

// hubOrigin is an instance written through v1alpha2 with fields the legacy
// schema cannot hold.
func hubOrigin() *odoov1alpha2.OdooInstance {
	size := resource.MustParse("20Gi")
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "odoo", Annotations: map[string]string{"team": "sales"}},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image:                  "odoo:18.0",
			AdminPasswordSecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "shop-admin"}, Key: "password"},
			Replicas:               ptr.To[int32](2),
			Workers:                ptr.To(intstr.FromInt32(4)),
			Resources: &corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi"), "ephemeral-storage": resource.MustParse("1Gi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
			Filestore:      odoov1alpha2.FilestoreSpec{StorageSize: &size, AccessMode: corev1.ReadWriteMany},
			Ingress:        &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}},
			Database:       odoov1alpha2.DatabaseSpec{Name: "shop"},
			DeletionPolicy: odoov1alpha2.DeletionPolicyDelete,
			Strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRollingUpdate, RollingUpdate: &odoov1alpha2.RollingUpdateSpec{
				MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromString("0")),
			}},
			Cron:        odoov1alpha2.CronSpec{MaxCronThreads: ptr.To[int32](2), Image: "odoo:18.0-cron"},
			AutoUpgrade: odoov1alpha2.AutoUpgradeSpec{Enabled: ptr.To(false)},
			Modules:     odoov1alpha2.ModulesSpec{AutoInstall: []string{"sale"}},
		},
		Status: odoov1alpha2.OdooInstanceStatus{
			ObservedGeneration: 3,
			Phase:              odoov1alpha2.PhaseRunning,
			Conditions: []metav1.Condition{{
				Type: "Ready", Status: metav1.ConditionTrue, Reason: "Available", Message: "serving", ObservedGeneration: 3,
				LastTransitionTime: metav1.Unix(1_700_000_000, 0),
			}},
			ReadyReplicas: 2,
			Deployment:    odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:18.0"},
			Health:        &odoov1alpha2.HealthStatus{Status: "Healthy"},
		},
	}
}

func TestHubOnlyFieldsSurviveSpokeEdits(t *testing.T) {
	hubSchema := structural(t, "v1alpha2")
	spokeSchema := structural(t, "v1alpha1")

	t.Run("read and written back unchanged", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, hubOrigin())
		spoke := toV1alpha1(t, hub)
		s := stashOf(g, spoke)
		g.Expect(s.Spoke).To(BeEmpty())
		g.Expect(s.Hub).NotTo(BeEmpty())
		// The password lives in a Secret; the spoke shows none and the stash
		// holds only the reference.
		g.Expect(spoke.Spec.AdminPassword).To(BeEmpty())
		// Written back through v1alpha1: the API server adds the v1alpha1 defaults
		// (resources.limits.cpu 2000m, the probe paths, ...) first.
		back := apiServerDefaults(t, hubSchema, toHub(t, apiServerDefaults(t, spokeSchema, spoke)))
		expectSemanticEqual(g, back, hub)
	})

	t.Run("a change through the spoke wins over the stash", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, hubOrigin())
		spoke := apiServerDefaults(t, spokeSchema, toV1alpha1(t, hub))

		spoke.Spec.Database.Cluster = "pg-2"                   // hub: "" (filled "default" on the way up)
		spoke.Spec.Strategy.RollingUpdate.MaxUnavailable = "1" // hub: the string "0"
		spoke.Spec.Resources.Limits.CPU = ptr.To(resource.MustParse("3"))
		spoke.Spec.Replicas = ptr.To[int32](5)

		back := toHub(t, spoke)
		want := hub.DeepCopy()
		want.Spec.Database.Cluster = "pg-2"
		want.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		want.Spec.Resources.Limits[corev1.ResourceCPU] = resource.MustParse("3")
		want.Spec.Replicas = ptr.To[int32](5)
		expectSemanticEqual(g, apiServerDefaults(t, hubSchema, back), want)
	})

	t.Run("removing an object through the spoke removes its stored fields", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, hubOrigin())
		spoke := toV1alpha1(t, hub)
		spoke.Spec.Resources = nil
		back := toHub(t, spoke)
		g.Expect(back.Spec.Resources).To(BeNil(), "ephemeral-storage must not come back without its parent")
	})

	t.Run("spoke defaults added on a write do not reach the hub", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, hubOrigin())
		hub.Status.Phase = ""
		spoke := toV1alpha1(t, hub)
		g.Expect(stashOf(g, spoke).Unset).To(ConsistOf(
			"/spec/resources/limits/cpu", // the hub sets no CPU limit on purpose
			"/status/phase",
		))
		defaulted := apiServerDefaults(t, spokeSchema, spoke)
		g.Expect(defaulted.Spec.Resources.Limits.CPU.String()).To(Equal("2"))
		back := toHub(t, defaulted)
		g.Expect(back.Spec.Resources.Limits).NotTo(HaveKey(corev1.ResourceCPU))
		g.Expect(back.Status.Phase).To(BeEmpty())
	})
}

func TestSpokeOnlyFieldsSurviveHubEdits(t *testing.T) {
	hubSchema := structural(t, "v1alpha2")
	written := readExample(t)
	written.Spec.Sync = &odoov1.SyncSpec{Enabled: ptr.To(false), Time: "2025-06-16T10:00:00Z"}
	written.Spec.Probes = &odoov1.ProbesSpec{StartupPath: "/web/login", LivenessPath: "/web/health", ReadinessPath: "/health/ready"}
	written.Spec.Environment = "Production"
	written.Status = odoov1.OdooInstanceStatus{Phase: odoov1.PhaseCloningFromSource, Message: "cloning from the source instance", Ready: ptr.To(false), TargetReplicas: 1}

	t.Run("kept through hub writes that do not touch them", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, toHub(t, written))
		g.Expect(hub.Status.Phase).To(Equal(odoov1alpha2.PhasePending))
		g.Expect(hub.Spec.Probes.Endpoint).To(Equal("/health/ready"))
		g.Expect(stashOf(g, hub).Spoke).NotTo(BeEmpty())

		hub.Spec.Image = "odoo:18.0-20260101"
		hub.Labels = map[string]string{"tier": "gold"}
		back := toV1(t, hub)
		want := written.DeepCopy()
		want.Spec.Image = "odoo:18.0-20260101"
		want.Labels = map[string]string{"tier": "gold"}
		back.TypeMeta = want.TypeMeta
		expectSemanticEqual(g, back, want)
	})

	t.Run("a change through the hub wins over the stash", func(t *testing.T) {
		g := NewWithT(t)
		hub := apiServerDefaults(t, hubSchema, toHub(t, written))
		hub.Status.Phase = odoov1alpha2.PhaseRunning // the controller took over
		hub.Spec.Probes.Endpoint = "/web/health"
		hub.Spec.Database.Cluster = "pg-2" // was filled with "default"
		back := toV1(t, hub)
		g.Expect(back.Status.Phase).To(Equal(odoov1.PhaseRunning))
		g.Expect(back.Status.Message).To(Equal("cloning from the source instance"), "fields the hub has no say on are kept")
		g.Expect(back.Spec.Probes).To(Equal(&odoov1.ProbesSpec{StartupPath: "/web/health", LivenessPath: "/web/health", ReadinessPath: "/web/health"}))
		g.Expect(back.Spec.Database).To(Equal(&odoov1.DatabaseSpec{Cluster: "pg-2"}), "the filled missingPolicy still does not show")
		g.Expect(back.Spec.Sync).To(Equal(written.Spec.Sync))
	})

	t.Run("the annotation goes once nothing needs it", func(t *testing.T) {
		g := NewWithT(t)
		plain := readExample(t)
		plain.Spec.Sync = &odoov1.SyncSpec{Time: "2025-06-16T10:00:00Z"}
		hub := apiServerDefaults(t, hubSchema, toHub(t, plain))
		g.Expect(hub.Annotations).To(HaveKey(DataAnnotation))

		spoke := toV1(t, hub)
		g.Expect(spoke.Spec.Sync).NotTo(BeNil())
		g.Expect(spoke.Annotations).NotTo(HaveKey(DataAnnotation))

		// The user drops spec.sync and names everything up-conversion filled:
		// the hub holds it all, no annotation is left.
		spoke.Spec.Sync = nil
		spoke.Spec.Replicas = ptr.To[int32](1)
		spoke.Spec.Database = &odoov1.DatabaseSpec{Cluster: "default", MissingPolicy: "Ignore"}
		spoke.Spec.Filestore.StorageClass = "cephfs"
		spoke.Spec.Probes = &odoov1.ProbesSpec{StartupPath: "/web/health", LivenessPath: "/web/health", ReadinessPath: "/web/health"}
		spoke.Spec.Strategy = &odoov1.StrategySpec{Type: "Recreate"}
		spoke.Spec.Init = &odoov1.InitSpec{Modules: []string{"base"}}
		spoke.Spec.Cron = &odoov1.CronSpec{Replicas: ptr.To[int32](1)}
		hub = toHub(t, spoke)
		g.Expect(hub.Annotations).NotTo(HaveKey(DataAnnotation))
	})
}

func TestLegacyPhases(t *testing.T) {
	hubSchema := structural(t, "v1alpha2")
	phases := map[odoov1alpha1.Phase]odoov1alpha2.Phase{
		"Running": "Running", "Upgrading": "Upgrading", "Restoring": "Restoring",
		"Provisioning": "Pending", "Uninitialized": "Initializing", "Initializing": "Initializing",
		"InitFailed": "Failed", "Starting": "Pending", "Degraded": "Degraded", "Stopped": "Stopped",
		"CloningFromSource": "Pending", "BackingUp": "Running", "MigratingFilestore": "Migrating",
		"FinalizingFilestoreMigration": "Migrating", "MigratingDatabase": "Migrating",
		"FinalizingDatabaseMigration": "Migrating", "Error": "Failed", "Pending": "Pending", "Failed": "Failed",
		"SomethingNew": "",
	}
	for legacy, want := range phases {
		t.Run(string(legacy), func(t *testing.T) {
			g := NewWithT(t)
			spoke := &odoov1alpha1.OdooInstance{Status: odoov1alpha1.OdooInstanceStatus{Phase: legacy}}
			hub := apiServerDefaults(t, hubSchema, toHub(t, spoke))
			g.Expect(hub.Status.Phase).To(Equal(want))
			g.Expect(toV1alpha1(t, hub).Status.Phase).To(Equal(legacy))
		})
	}
}

// TestHubPhasesDownConvert: every hub phase converts to a phase the legacy
// enum accepts (the API server prunes nothing from a conversion, but legacy
// clients validate against that enum), and comes back unchanged to the hub
// through the stash.
func TestHubPhasesDownConvert(t *testing.T) {
	hubSchema := structural(t, "v1alpha2")
	legacyEnum := map[string]bool{}
	for _, v := range structural(t, "v1alpha1").Properties["status"].Properties["phase"].ValueValidation.Enum {
		legacyEnum[v.Object.(string)] = true
	}
	for _, v := range hubSchema.Properties["status"].Properties["phase"].ValueValidation.Enum {
		phase := odoov1alpha2.Phase(v.Object.(string))
		t.Run(string(phase), func(t *testing.T) {
			g := NewWithT(t)
			hub := &odoov1alpha2.OdooInstance{Status: odoov1alpha2.OdooInstanceStatus{Phase: phase}}
			spoke := toV1alpha1(t, hub)
			g.Expect(legacyEnum).To(HaveKey(string(spoke.Status.Phase)))
			g.Expect(apiServerDefaults(t, hubSchema, toHub(t, spoke)).Status.Phase).To(Equal(phase))
		})
	}
}

// TestEveryLegacyFieldSurvives fills every field of the legacy schema,
// including every nested optional one, and checks that each JSON leaf comes
// back from the hub with its value, and that the CRD schema keeps all of them.
func TestEveryLegacyFieldSurvives(t *testing.T) {
	g := NewWithT(t)
	f := newFiller(42).NilChance(0).NumElements(1, 2)
	spoke := &odoov1alpha1.OdooInstance{}
	f.Fill(spoke)
	spoke.Annotations = nil
	spoke.Spec.AdminPassword = "s3cr3t-admin-password"
	spoke = apiServerDefaults(t, structural(t, "v1alpha1"), spoke)

	written, err := toTree(spokeBody{Spec: spoke.Spec, Status: spoke.Status})
	g.Expect(err).NotTo(HaveOccurred())
	leaves := map[string]any{}
	collectLeaves("", written, leaves)
	g.Expect(len(leaves)).To(BeNumerically(">", 80))
	for _, p := range []string{"/spec/sync/time", "/spec/probes/startupPath", "/spec/ingress/gatewayRef/name", "/status/lastBackup", "/status/migrationPvName", "/spec/readOnlySqlAccess/connectionLimit"} {
		g.Expect(leaves).To(HaveKey(p))
	}

	// The schema prunes nothing: every Go field has a place in the CRD.
	pruned := runtime.DeepCopyJSONValue(written).(map[string]any)
	pruning.Prune(pruned, structural(t, "v1alpha1"), false)
	prunedLeaves := map[string]any{}
	collectLeaves("", pruned, prunedLeaves)
	g.Expect(prunedLeaves).To(Equal(leaves))

	hub := apiServerDefaults(t, structural(t, "v1alpha2"), toHub(t, spoke))
	g.Expect(hub.Annotations[DataAnnotation]).NotTo(ContainSubstring("s3cr3t"), "fields both versions have are not copied into the annotation")
	for _, e := range stashOf(g, hub).Spoke {
		g.Expect(strings.HasPrefix(e.Path, "/spec/adminPassword")).To(BeFalse())
	}

	back := toV1alpha1(t, hub)
	got, err := toTree(spokeBody{Spec: back.Spec, Status: back.Status})
	g.Expect(err).NotTo(HaveOccurred())
	gotLeaves := map[string]any{}
	collectLeaves("", got, gotLeaves)
	for p, v := range leaves {
		g.Expect(gotLeaves).To(HaveKeyWithValue(p, v))
	}
	g.Expect(gotLeaves).To(HaveLen(len(leaves)))
	g.Expect(back.Annotations).To(BeEmpty())
}

func collectLeaves(path string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			out[path] = v
		}
		for k, c := range v {
			collectLeaves(path+"/"+escapePointer(k), c, out)
		}
	case []any:
		if len(v) == 0 {
			out[path] = v
		}
		for i, c := range v {
			collectLeaves(path+"/"+strconv.Itoa(i), c, out)
		}
	default:
		out[path] = v
	}
}

func TestMalformedAnnotationIsDropped(t *testing.T) {
	g := NewWithT(t)
	hub := hubOrigin()
	hub.Annotations[DataAnnotation] = "{not json"
	spoke := toV1alpha1(t, hub)
	g.Expect(spoke.Annotations[DataAnnotation]).To(HavePrefix(`{"hub":`))

	spoke.Annotations[DataAnnotation] = `{"hub":[{"path":"/spec/replicas","value":"three"}]}`
	back := toHub(t, spoke)
	g.Expect(back.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)), "a stash that does not fit the type is ignored")
}

func TestConverterForScheme(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(odoov1alpha2.AddToScheme(scheme)).To(Succeed())
	g.Expect(odoov1alpha1.AddToScheme(scheme)).To(Succeed())

	_, err := NewOdooInstanceConverter(Options{})(scheme)
	g.Expect(err).To(HaveOccurred(), "v1 is not in the scheme")

	g.Expect(odoov1.AddToScheme(scheme)).To(Succeed())
	c, err := NewOdooInstanceConverter(Options{DefaultStorageClass: "rook-cephfs"})(scheme)
	g.Expect(err).NotTo(HaveOccurred())

	// Spoke to spoke goes through the hub and loses nothing.
	v1 := readExample(t)
	v1.Spec.Sync = &odoov1.SyncSpec{Enabled: ptr.To(true)}
	alpha := &odoov1alpha1.OdooInstance{}
	alpha.SetGroupVersionKind(odoov1alpha1.GroupVersion.WithKind("OdooInstance"))
	g.Expect(c.ConvertObject(context.Background(), v1, alpha)).To(Succeed())
	g.Expect(alpha.Spec.Sync).To(Equal(&odoov1alpha1.SyncSpec{Enabled: ptr.To(true)}))
	g.Expect(alpha.Spec.Filestore).To(Equal(&odoov1alpha1.FilestoreSpec{StorageSize: "2Gi"}))
	g.Expect(alpha.Annotations).To(BeEmpty())

	hub := &odoov1alpha2.OdooInstance{}
	hub.SetGroupVersionKind(odoov1alpha2.GroupVersion.WithKind("OdooInstance"))
	g.Expect(c.ConvertObject(context.Background(), alpha, hub)).To(Succeed())
	g.Expect(hub.Spec.Filestore.StorageClass).To(Equal("rook-cephfs"))
}

// BenchmarkConversion measures one down- and up-conversion of a typical
// instance.
func BenchmarkConversion(b *testing.B) {
	hub := hubOrigin()
	ctx := context.Background()
	for b.Loop() {
		spoke := &odoov1alpha1.OdooInstance{}
		if err := testConverter.hubToV1alpha1(ctx, hub, spoke); err != nil {
			b.Fatal(err)
		}
		if err := testConverter.v1alpha1ToHub(ctx, spoke, &odoov1alpha2.OdooInstance{}); err != nil {
			b.Fatal(err)
		}
	}
}

package conversion

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Checks of the generated CRDs (config/crd/bases, `make manifests`) that the
// conversion relies on.

// TestCRDLegacyVersionsUnservedByDefault: on a fresh install v1alpha2 is the
// only served OdooInstance version, so `kubectl get odoo` resolves to it
// without a deprecation warning (kubectl prefers v1 whenever it is served).
// The legacy versions stay in the CRD, deprecated, for clusters that serve
// them again (config/components/legacy-versions) and for storedVersions.
func TestCRDLegacyVersionsUnservedByDefault(t *testing.T) {
	g := NewWithT(t)
	crd := loadCRD(t, instancesCRD)
	g.Expect(crd.Spec.Versions).To(HaveLen(3))

	hub := crdVersion(t, crd, "v1alpha2")
	g.Expect(hub.Served).To(BeTrue())
	g.Expect(hub.Storage).To(BeTrue())
	g.Expect(hub.Deprecated).To(BeFalse())

	// When served again, the spokes keep the legacy columns (their status has
	// no status.deployment) and have the hub's scale subresource, for
	// `kubectl scale odoo/...`.
	for _, name := range []string{"v1", "v1alpha1"} {
		v := crdVersion(t, crd, name)
		g.Expect(v.Served).To(BeFalse(), name)
		g.Expect(v.Storage).To(BeFalse(), name)
		g.Expect(v.Deprecated).To(BeTrue(), name)
		g.Expect(v.DeprecationWarning).To(HaveValue(Equal("bemade.org/" + name + " OdooInstance is deprecated; use bemade.org/v1alpha2")))
		g.Expect(v.Subresources.Status).NotTo(BeNil(), name)
		g.Expect(v.AdditionalPrinterColumns).NotTo(BeEmpty(), name)
		g.Expect(v.Subresources.Scale).To(Equal(hub.Subresources.Scale), name)
	}
	// The short name odoo must not also be a category: kubectl expands a
	// category first, and `kubectl get odoo NAME` then fails with
	// "you must specify only one resource".
	g.Expect(crd.Spec.Names.ShortNames).To(ContainElement("odoo"))
	g.Expect(crd.Spec.Names.Categories).NotTo(ContainElement("odoo"))
}

// TestSpokeSchemasIdentical: v1 and v1alpha1 share one schema, which lets
// the converter handle v1 through the v1alpha1 types and share the stash.
func TestSpokeSchemasIdentical(t *testing.T) {
	crd := loadCRD(t, instancesCRD)
	v1 := crdVersion(t, crd, "v1").Schema.OpenAPIV3Schema.DeepCopy()
	v1alpha1 := crdVersion(t, crd, "v1alpha1").Schema.OpenAPIV3Schema.DeepCopy()
	// The kinds' doc comments differ (only v1alpha1 has a scale subresource).
	v1.Description, v1alpha1.Description = "", ""
	if !apiequality.Semantic.DeepEqual(v1, v1alpha1) {
		t.Fatal("the v1 and v1alpha1 OdooInstance schemas differ: api/v1/odooinstance_types.go must stay a copy of api/v1alpha1/odooinstance_types.go")
	}
}

// TestInitJobSchemasIdentical: OdooInitJob converts with strategy None (the API
// server only rewrites apiVersion), which is lossless only for equal schemas.
func TestInitJobSchemasIdentical(t *testing.T) {
	g := NewWithT(t)
	crd := loadCRD(t, "odooinitjobs.bemade.org")
	g.Expect(crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy == apiextensionsv1.NoneConverter).To(BeTrue())
	if !apiequality.Semantic.DeepEqual(crdVersion(t, crd, "v1alpha1").Schema, crdVersion(t, crd, "v1alpha2").Schema) {
		t.Fatal("the v1alpha1 and v1alpha2 OdooInitJob schemas differ: conversion strategy None would lose data")
	}
}

// TestUpgradeJobSchemasIdentical: OdooUpgradeJob converts with strategy None
// too, which is lossless only for equal schemas.
func TestUpgradeJobSchemasIdentical(t *testing.T) {
	g := NewWithT(t)
	crd := loadCRD(t, "odooupgradejobs.bemade.org")
	g.Expect(crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy == apiextensionsv1.NoneConverter).To(BeTrue())
	if !apiequality.Semantic.DeepEqual(crdVersion(t, crd, "v1alpha1").Schema, crdVersion(t, crd, "v1alpha2").Schema) {
		t.Fatal("the v1alpha1 and v1alpha2 OdooUpgradeJob schemas differ: conversion strategy None would lose data")
	}
}

// TestBackupJobSchemasIdentical: OdooBackupJob converts with strategy None
// too, which is lossless only for equal schemas.
func TestBackupJobSchemasIdentical(t *testing.T) {
	sameSchemas(t, "odoobackupjobs.bemade.org")
}

// TestRestoreJobSchemasIdentical: the same of OdooRestoreJob.
func TestRestoreJobSchemasIdentical(t *testing.T) {
	sameSchemas(t, "odoorestorejobs.bemade.org")
}

func sameSchemas(t *testing.T, name string) {
	t.Helper()
	g := NewWithT(t)
	crd := loadCRD(t, name)
	g.Expect(crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy == apiextensionsv1.NoneConverter).To(BeTrue())
	if !apiequality.Semantic.DeepEqual(crdVersion(t, crd, "v1alpha1").Schema, crdVersion(t, crd, "v1alpha2").Schema) {
		t.Fatalf("the v1alpha1 and v1alpha2 schemas of %s differ: conversion strategy None would lose data", name)
	}
}

// TestSpokeDefaultsMatchCRD: legacySpokeDefaults lists exactly the defaults of
// the legacy schema (outside lists, where only embedded core/v1 types carry
// defaults; those are the same in the hub).
func TestSpokeDefaultsMatchCRD(t *testing.T) {
	g := NewWithT(t)
	for _, version := range []string{"v1", "v1alpha1"} {
		found := map[string]string{}
		collectDefaults("", crdVersion(t, loadCRD(t, instancesCRD), version).Schema.OpenAPIV3Schema, found)
		want := map[string]string{}
		for _, d := range legacySpokeDefaults {
			want[d.path] = d.raw
		}
		g.Expect(found).To(Equal(want), version)
	}
}

func collectDefaults(path string, s *apiextensionsv1.JSONSchemaProps, out map[string]string) {
	if s.Default != nil {
		out[path] = string(s.Default.Raw)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[k]
		collectDefaults(path+"/"+k, &p, out)
	}
}

// TestHubDefaultsMatchCRD: applyHubDefaults sets what the API server's
// defaulting sets with the v1alpha2 schema.
func TestHubDefaultsMatchCRD(t *testing.T) {
	g := NewWithT(t)
	want := apiServerDefaults(t, structural(t, "v1alpha2"), &odoov1alpha2.OdooInstance{})
	got := &odoov1alpha2.OdooInstance{}
	applyHubDefaults(&got.Spec)
	if !apiequality.Semantic.DeepEqual(want.Spec, got.Spec) {
		w, _ := json.Marshal(want.Spec)
		o, _ := json.Marshal(got.Spec)
		g.Expect(string(o)).To(MatchJSON(w))
	}
}

// TestStagingRefreshJobSchemasIdentical: the same of OdooStagingRefreshJob.
func TestStagingRefreshJobSchemasIdentical(t *testing.T) {
	sameSchemas(t, "odoostagingrefreshjobs.bemade.org")
}

package conversion

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// The generated CRDs, read once.
var (
	crdsOnce sync.Once
	crds     map[string]*apiextensionsv1.CustomResourceDefinition
	crdsErr  error
)

func loadCRD(t testing.TB, name string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crdsOnce.Do(func() {
		crds = map[string]*apiextensionsv1.CustomResourceDefinition{}
		for _, file := range []string{"bemade.org_odooinstances.yaml", "bemade.org_odooinitjobs.yaml", "bemade.org_odooupgradejobs.yaml", "bemade.org_odoobackupjobs.yaml", "bemade.org_odoorestorejobs.yaml", "bemade.org_odoostagingrefreshjobs.yaml"} {
			b, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "crd", "bases", file))
			if err != nil {
				crdsErr = err
				return
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.UnmarshalStrict(b, crd); err != nil {
				crdsErr = err
				return
			}
			crds[crd.Name] = crd
		}
	})
	if crdsErr != nil {
		t.Fatalf("reading the generated CRDs: %v", crdsErr)
	}
	crd, ok := crds[name]
	if !ok {
		t.Fatalf("no CRD %s in config/crd/bases", name)
	}
	return crd
}

func crdVersion(t testing.TB, crd *apiextensionsv1.CustomResourceDefinition, version string) *apiextensionsv1.CustomResourceDefinitionVersion {
	t.Helper()
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == version {
			return &crd.Spec.Versions[i]
		}
	}
	t.Fatalf("CRD %s has no version %s", crd.Name, version)
	return nil
}

// structural is the structural schema the API server builds from a version
// of the OdooInstance CRD: what it defaults and prunes with.
func structural(t testing.TB, version string) *structuralschema.Structural {
	t.Helper()
	v := crdVersion(t, loadCRD(t, instancesCRD), version)
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(internal)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apiServerDefaults applies the schema defaults of crdName at version to the
// spec and status of obj, as the API server does on a write through that
// version or a read from etcd in it.
func apiServerDefaults[T runtime.Object](t testing.TB, s *structuralschema.Structural, obj T) T {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{}
	for _, k := range []string{"spec", "status"} {
		if v, ok := u[k]; ok {
			body[k] = v
		}
	}
	schemaDefault(body, s)
	for k, v := range body {
		u[k] = v
	}
	out := obj.DeepCopyObject().(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, out); err != nil {
		t.Fatal(err)
	}
	return out
}

const instancesCRD = "odooinstances.bemade.org"

// testConverter converts without going through the webhook's scheme lookup.
var testConverter = &instanceConverter{}

func toHub(t testing.TB, spoke any) *odoov1alpha2.OdooInstance {
	t.Helper()
	hub := &odoov1alpha2.OdooInstance{}
	var err error
	switch s := spoke.(type) {
	case *odoov1alpha1.OdooInstance:
		err = testConverter.v1alpha1ToHub(context.Background(), s, hub)
	case *odoov1.OdooInstance:
		err = testConverter.v1ToHub(context.Background(), s, hub)
	default:
		t.Fatalf("not a spoke: %T", spoke)
	}
	if err != nil {
		t.Fatal(err)
	}
	return hub
}

func toV1alpha1(t testing.TB, hub *odoov1alpha2.OdooInstance) *odoov1alpha1.OdooInstance {
	t.Helper()
	out := &odoov1alpha1.OdooInstance{}
	if err := testConverter.hubToV1alpha1(context.Background(), hub, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func toV1(t testing.TB, hub *odoov1alpha2.OdooInstance) *odoov1.OdooInstance {
	t.Helper()
	out := &odoov1.OdooInstance{}
	if err := testConverter.hubToV1(context.Background(), hub, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// withGoSpokeDefaults applies legacySpokeDefaults to a v1alpha1 object.
func withGoSpokeDefaults(t testing.TB, in *odoov1alpha1.OdooInstance) *odoov1alpha1.OdooInstance {
	t.Helper()
	tree, err := toTree(spokeBody{Spec: in.Spec, Status: in.Status})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range legacySpokeDefaults {
		if defaulted, applies := withSpokeDefault(tree, spokeDefaults[d.path]); applies {
			tree = defaulted
		}
	}
	var body spokeBody
	if err := fromTree(tree, &body); err != nil {
		t.Fatal(err)
	}
	out := in.DeepCopy()
	out.Spec, out.Status = body.Spec, body.Status
	return out
}

// schemaDefault is the API server's structural defaulting
// (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting.Default,
// v0.37.2), copied because that package pulls in CEL, which this module does
// not otherwise need: a default is set where the field is absent or a
// non-nullable null, then defaulting descends into the value.
func schemaDefault(x any, s *structuralschema.Structural) {
	if s == nil {
		return
	}
	isNonNullableNull := func(v any, s *structuralschema.Structural) bool {
		return v == nil && s != nil && !s.Nullable
	}
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range s.Properties {
			if prop.Default.Object == nil {
				continue
			}
			if _, found := x[k]; !found || isNonNullableNull(x[k], &prop) {
				x[k] = runtime.DeepCopyJSONValue(prop.Default.Object)
			}
		}
		for k := range x {
			if prop, found := s.Properties[k]; found {
				schemaDefault(x[k], &prop)
			} else if s.AdditionalProperties != nil {
				if isNonNullableNull(x[k], s.AdditionalProperties.Structural) {
					x[k] = runtime.DeepCopyJSONValue(s.AdditionalProperties.Structural.Default.Object)
				}
				schemaDefault(x[k], s.AdditionalProperties.Structural)
			}
		}
	case []any:
		for i := range x {
			if isNonNullableNull(x[i], s.Items) {
				x[i] = runtime.DeepCopyJSONValue(s.Items.Default.Object)
			}
			schemaDefault(x[i], s.Items)
		}
	}
}

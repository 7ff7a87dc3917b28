package envtestutil

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// servedVersions renders a kustomization with the real kubectl and returns
// the served versions of each CRD in it.
func servedVersions(t *testing.T, dir string) map[string][]string {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set (its kubectl renders the kustomizations)")
	}
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(RepoRoot(), dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	served := map[string][]string{}
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if !strings.Contains(doc, "kind: CustomResourceDefinition") {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal([]byte(doc), crd); err != nil {
			t.Fatal(err)
		}
		served[crd.Name] = servedOf(crd)
	}
	return served
}

func servedOf(crd *apiextensionsv1.CustomResourceDefinition) []string {
	var names []string
	for _, v := range crd.Spec.Versions {
		if v.Served {
			names = append(names, v.Name)
		}
	}
	return names
}

// TestLegacyVersionsComponent: config/default serves v1alpha2 only; the
// migration overlay (config/components/legacy-versions) serves every version,
// exactly as WithLegacyVersions does for the envtest suites.
func TestLegacyVersionsComponent(t *testing.T) {
	crds, err := LoadCRDs()
	if err != nil {
		t.Fatal(err)
	}
	fresh, legacy := map[string][]string{}, map[string][]string{}
	for _, crd := range crds {
		fresh[crd.Name] = servedOf(crd)
		ServeLegacyVersions(crd)
		legacy[crd.Name] = servedOf(crd)
	}
	if got := fresh["odooinstances.bemade.org"]; strings.Join(got, ",") != "v1alpha2" {
		t.Errorf("generated CRD serves %v, want only v1alpha2", got)
	}
	if got := legacy["odooinstances.bemade.org"]; strings.Join(got, ",") != "v1,v1alpha1,v1alpha2" {
		t.Errorf("WithLegacyVersions serves %v, want v1, v1alpha1 and v1alpha2", got)
	}
	if got := legacy["odoobackupjobs.bemade.org"]; strings.Join(got, ",") != "v1alpha1,v1alpha2" {
		t.Errorf("WithLegacyVersions serves backup jobs at %v", got)
	}
	for dir, want := range map[string]map[string][]string{"config/default": fresh, "config/migrating": legacy} {
		if got := servedVersions(t, dir); !maps.EqualFunc(got, want, func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }) {
			t.Errorf("%s serves %v, want %v", dir, got, want)
		}
	}
}

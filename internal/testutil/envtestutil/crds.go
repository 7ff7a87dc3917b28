package envtestutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// LoadCRDs reads the generated CRDs (config/crd/bases).
func LoadCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	dir := filepath.Join(RepoRoot(), "config", "crd", "bases")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRD in %s (run `make manifests`)", dir)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // the repository's own generated CRDs
		if err != nil {
			return nil, err
		}
		for _, doc := range strings.Split(string(b), "\n---\n") {
			if strings.TrimSpace(doc) == "" || strings.TrimSpace(doc) == "---" {
				continue
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.UnmarshalStrict([]byte(doc), crd); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			crds = append(crds, crd)
		}
	}
	return crds, nil
}

// ServeLegacyVersions marks the deprecated versions of crd served: what the
// kustomize component config/components/legacy-versions does on a cluster
// (TestLegacyVersionsComponent checks the two agree).
func ServeLegacyVersions(crd *apiextensionsv1.CustomResourceDefinition) {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Deprecated {
			crd.Spec.Versions[i].Served = true
		}
	}
}

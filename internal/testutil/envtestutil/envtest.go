// Package envtestutil starts a real kube-apiserver and etcd (built from the Go
// module proxy by hack/k8s-tools/build.sh) with the operator's CRDs installed.
package envtestutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the root of the checkout, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Option changes the environment Start starts.
type Option func(*envtest.Environment) error

// WithLegacyVersions installs the CRDs with their deprecated versions
// (OdooInstance v1 and v1alpha1, the jobs' v1alpha1) served, as a cluster
// migrating from the reference operator does (config/components/legacy-versions).
// The generated CRDs leave them unserved, so suites that write legacy objects
// ask for this explicitly.
func WithLegacyVersions() Option {
	return func(env *envtest.Environment) error {
		crds, err := LoadCRDs()
		if err != nil {
			return err
		}
		for _, crd := range crds {
			ServeLegacyVersions(crd)
		}
		env.CRDDirectoryPaths = nil
		env.CRDs = crds
		return nil
	}
}

// Start starts the control plane. It fails, rather than skips, when the
// binaries are missing: a suite that silently skips is a suite that passes
// without testing anything.
func Start(opts ...Option) (*envtest.Environment, *rest.Config, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, or export KUBEBUILDER_ASSETS=$(hack/k8s-tools/build.sh | tail -1)")
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	for _, opt := range opts {
		if err := opt(env); err != nil {
			return nil, nil, err
		}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest with binaries from %s: %w", assets, err)
	}
	return env, cfg, nil
}

// SetLogger sends controller-runtime's logs to stderr when TEST_LOG is set,
// and nowhere otherwise, so test output stays readable.
func SetLogger() {
	out := io.Discard
	if os.Getenv("TEST_LOG") != "" {
		out = os.Stderr
	}
	logf.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(out)))
}

// BaseScheme knows the built-in kinds and CustomResourceDefinitions.
func BaseScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	return scheme
}

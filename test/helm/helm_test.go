//go:build helm

// Package helm tests the Helm chart (charts/odoo-operator) with the real helm
// binary (env HELM, built by `make helm-test`): `helm template` against
// committed snapshots, and the parts that must never drift from config/ (CRDs,
// RBAC) and from the operator's flags.
package helm

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the snapshots (make helm-snapshots)")

const (
	release   = "odoo-operator"
	namespace = "odoo-operator"
)

// repoRoot is two levels up from test/helm.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

func chartDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "charts", "odoo-operator")
}

// helmTemplate runs `helm template` and returns its output, or the error with
// helm's stderr.
func helmTemplate(t *testing.T, chart string, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Fatal("HELM is not set: run `make helm-test`, which builds helm and sets it")
	}
	cmd := exec.Command(bin, append([]string{"template", release, chart, "--namespace", namespace}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &helmError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

type helmError struct {
	err    error
	stderr string
}

func (e *helmError) Error() string { return e.err.Error() + ": " + e.stderr }

func mustTemplate(t *testing.T, chart string, args ...string) string {
	t.Helper()
	out, err := helmTemplate(t, chart, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	return out
}

// doc is one rendered object with the template it came from.
type doc struct {
	source string
	text   string
	obj    map[string]any
}

func (d doc) kind() string { return str(d.obj, "kind") }
func (d doc) name() string { return str(d.obj, "metadata", "name") }

var sourceLine = regexp.MustCompile(`(?m)^# Source: (\S+)$`)

// split parses helm's output into its documents.
func split(t *testing.T, out string) []doc {
	t.Helper()
	var docs []doc
	for _, part := range regexp.MustCompile(`(?m)^---$`).Split(out, -1) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		d := doc{text: part}
		if m := sourceLine.FindStringSubmatch(part); m != nil {
			d.source = m[1]
		}
		if err := yaml.Unmarshal([]byte(part), &d.obj); err != nil {
			t.Fatalf("rendered document from %s is not YAML: %v\n%s", d.source, err, part)
		}
		if d.obj == nil {
			continue
		}
		docs = append(docs, d)
	}
	return docs
}

func find(t *testing.T, docs []doc, kind, name string) doc {
	t.Helper()
	for _, d := range docs {
		if d.kind() == kind && (name == "" || d.name() == name) {
			return d
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return doc{}
}

func has(docs []doc, kind string) bool {
	return slices.ContainsFunc(docs, func(d doc) bool { return d.kind() == kind })
}

// str and field walk a decoded object.
func field(obj any, path ...string) any {
	for _, p := range path {
		m, ok := obj.(map[string]any)
		if !ok {
			return nil
		}
		obj = m[p]
	}
	return obj
}

func str(obj any, path ...string) string {
	s, _ := field(obj, path...).(string)
	return s
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The first document only (webhook_certs_role.yaml holds two).
	first := regexp.MustCompile(`(?m)^---$`).Split(string(b), -1)
	for _, part := range first {
		if strings.TrimSpace(part) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(part), &obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if obj != nil {
			return obj
		}
	}
	t.Fatalf("%s: no document", path)
	return nil
}

// valueCases are the value files of the snapshots (test/helm/testdata).
func valueCases(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.values.yaml: %v", err)
	}
	cases := map[string]string{}
	for _, f := range files {
		cases[strings.TrimSuffix(filepath.Base(f), ".values.yaml")] = f
	}
	return cases
}

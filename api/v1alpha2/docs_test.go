package v1alpha2

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The docs are part of the API: these tests fail when a constant or a field
// is added without its line in the docs.

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stringConstants returns the string constants of this package whose names
// start with prefix, by name.
func stringConstants(t *testing.T, prefix string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out[name.Name] = v
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s constant found", prefix)
	}
	return out
}

// TestEveryReasonIsInTheTroubleshootingGuide: each condition reason says
// what it means and what to do in docs/guides/troubleshooting.md.
func TestEveryReasonIsInTheTroubleshootingGuide(t *testing.T) {
	guide := readDoc(t, "docs/guides/troubleshooting.md")
	for name, value := range stringConstants(t, "Reason") {
		if !strings.Contains(guide, "`"+value+"`") {
			t.Errorf("%s (%q) is not in docs/guides/troubleshooting.md", name, value)
		}
	}
}

// TestEveryConditionAndPhaseIsInTheAPIDoc: docs/api.md lists every
// condition type and phase.
func TestEveryConditionAndPhaseIsInTheAPIDoc(t *testing.T) {
	doc := readDoc(t, "docs/api.md")
	for _, prefix := range []string{"Condition", "Phase", "Operation"} {
		for name, value := range stringConstants(t, prefix) {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(value) + `\b`).MatchString(doc) {
				t.Errorf("%s (%q) is not in docs/api.md", name, value)
			}
		}
	}
}

// TestEveryInstanceFieldIsInTheAPIDoc: every field of the OdooInstance's
// spec and status (and of their nested types of this package) is named in
// docs/api.md.
func TestEveryInstanceFieldIsInTheAPIDoc(t *testing.T) {
	doc := readDoc(t, "docs/api.md")
	pkg := reflect.TypeFor[OdooInstanceSpec]().PkgPath()
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != pkg || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(doc) {
				t.Errorf("%s.%s is not in docs/api.md", path, name)
			}
			walk(f.Type, path+"."+name)
		}
	}
	walk(reflect.TypeFor[OdooInstanceSpec](), "spec")
	walk(reflect.TypeFor[OdooInstanceStatus](), "status")
}

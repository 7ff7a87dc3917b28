package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// odooRepository is the one image repository the player runs as real Odoo:
// `odoo:<tag>` exactly. Every other repository (odoo-sim, a registry
// path) stays simulated by KWOK.
const odooRepository = "odoo"

// odooVersion is the Odoo the sandbox has (hack/odoo.sh).
const odooVersion = "18.0"

// isOdooImage is true for images of the real-Odoo repository.
func isOdooImage(image string) bool {
	return strings.HasPrefix(image, odooRepository+":")
}

// odooImages knows the tags of the `odoo` repository the sandbox can run:
// "18.0" (Odoo's own add-ons only) and "18.0-<variant>" for every
// directory test/odoo/addons/<variant>, whose add-ons are appended to
// --addons-path.
type odooImages struct {
	odooDir   string
	addonsDir string
}

// addonsPath is the --addons-path of image, or an error naming the tags
// the sandbox has (the pod then waits in ImagePullBackOff).
func (im odooImages) addonsPath(image string) (string, error) {
	paths := []string{filepath.Join(im.odooDir, "addons"), filepath.Join(im.odooDir, "odoo", "addons")}
	tag := strings.TrimPrefix(image, odooRepository+":")
	if tag == odooVersion {
		return strings.Join(paths, ","), nil
	}
	variant, ok := strings.CutPrefix(tag, odooVersion+"-")
	if ok && variant != "" && !strings.ContainsAny(variant, `/\.`) {
		dir := filepath.Join(im.addonsDir, variant)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return strings.Join(append(paths, dir), ","), nil
		}
	}
	return "", fmt.Errorf("%w: %s; the sandbox's odoo repository has the tags %s "+
		"(test/odoo/addons/<variant> makes 18.0-<variant>), and odoo-sim:<any tag> is simulated by KWOK",
		errImage, image, strings.Join(im.tags(), ", "))
}

// sitePath is the variant's directory when it holds a sitecustomize.py
// (Python then runs it first; variant "series" reports another Odoo
// series with it), else "".
func (im odooImages) sitePath(image string) string {
	variant, ok := strings.CutPrefix(strings.TrimPrefix(image, odooRepository+":"), odooVersion+"-")
	if !ok || variant == "" || strings.ContainsAny(variant, `/\.`) {
		return ""
	}
	dir := filepath.Join(im.addonsDir, variant)
	if _, err := os.Stat(filepath.Join(dir, "sitecustomize.py")); err != nil {
		return ""
	}
	return dir
}

// tags lists the tags the sandbox has.
func (im odooImages) tags() []string {
	tags := []string{odooVersion}
	entries, _ := os.ReadDir(im.addonsDir)
	for _, e := range entries {
		if e.IsDir() {
			tags = append(tags, odooVersion+"-"+e.Name())
		}
	}
	slices.Sort(tags[1:])
	return tags
}

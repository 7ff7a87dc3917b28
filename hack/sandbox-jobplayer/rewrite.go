package main

import (
	"cmp"
	"path"
	"slices"
	"strings"
)

// mapping is a path inside the container and the host path that stands in
// for it.
type mapping struct {
	container, host string
}

// pathMap rewrites container paths to host paths. A pod's volumes are not
// mounted anywhere on the host, so the player runs the command with every
// argument (and literal env value) that names a mounted path rewritten to the
// host directory behind it.
type pathMap []mapping

// newPathMap sorts the mappings longest container path first, so that a
// mount nested inside another wins.
func newPathMap(ms ...mapping) pathMap {
	out := make(pathMap, 0, len(ms))
	for _, m := range ms {
		out = append(out, mapping{container: path.Clean(m.container), host: m.host})
	}
	slices.SortStableFunc(out, func(a, b mapping) int { return cmp.Compare(len(b.container), len(a.container)) })
	return out
}

// rewrite maps one argument or value. It recognises the forms the data
// subcommands take: a path ("/backups"), a path below a mount
// ("/var/lib/odoo/filestore/db"), a file:// URL ("file:///backup-store/x")
// and either of those after "--flag=". Anything else (other words, paths
// outside every mount, "/backupsX") is left alone.
func (pm pathMap) rewrite(s string) string {
	prefix, rest := "", s
	if strings.HasPrefix(rest, "--") {
		if i := strings.IndexByte(rest, '='); i > 0 {
			prefix, rest = rest[:i+1], rest[i+1:]
		}
	}
	if after, ok := strings.CutPrefix(rest, "file://"); ok {
		prefix, rest = prefix+"file://", after
	}
	for _, m := range pm {
		if rest == m.container {
			return prefix + m.host
		}
		if below, ok := strings.CutPrefix(rest, m.container+"/"); ok {
			return prefix + path.Join(m.host, below)
		}
	}
	return s
}

// replaceIn replaces every mounted path in a shell script by its host
// directory, and /tmp by tmp (the pod's scratch directory): a path is
// replaced where it is followed by "/", a blank, a quote, a ";" or the end.
func (pm pathMap) replaceIn(script, tmp string) string {
	all := append(pathMap{{container: "/tmp", host: tmp}}, pm...)
	all = newPathMap(all...)
	var b strings.Builder
	for i := 0; i < len(script); {
		matched := false
		if i == 0 || strings.ContainsRune(" \t\n;'\"=(", rune(script[i-1])) {
			for _, m := range all {
				if !strings.HasPrefix(script[i:], m.container) {
					continue
				}
				end := i + len(m.container)
				if end == len(script) || strings.ContainsRune("/ \t\n;'\")", rune(script[end])) {
					b.WriteString(m.host)
					i, matched = end, true
					break
				}
			}
		}
		if !matched {
			b.WriteByte(script[i])
			i++
		}
	}
	return b.String()
}

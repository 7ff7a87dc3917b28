package main

import (
	"bufio"
	"context"

	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// pythonBinary runs Odoo: Debian's Python has the packages hack/odoo.sh
// installs; another python3 earlier on the PATH may not.
const pythonBinary = "/usr/bin/python3"

// odooPorts are the host ports a web pod's Odoo listens on (HTTP and, in
// prefork mode, gevent); zero when the pod serves no HTTP.
type odooPorts struct{ http, gevent int }

// planOdoo turns a pod of the `odoo` image into a host process: the
// container's `odoo ...` becomes `/usr/bin/python3 <odoo>/odoo-bin ...`
// with the pod's own arguments (mounted paths rewritten), environment and
// volumes (its Secrets materialised privately, its claims' hostPath
// directories), plus what a container gets from its image and network
// namespace: --addons-path (the image's add-ons), --data-dir (odoo.conf's
// data_dir mapped to its volume), and the listen address and ports.
// Nothing added is a credential: those stay in the pod's odoo.conf, which
// Odoo reads itself.
//
// `sh -c <script>` in the Odoo image (the filestore copy Job) runs with
// /bin/sh, the script's mount paths replaced by their host directories.
func (pl *planner) planOdoo(ctx context.Context, pod *corev1.Pod, images odooImages, ports odooPorts) (*plan, error) {
	if len(pod.Spec.Containers) == 0 {
		return nil, unsupported("the pod has no container")
	}
	c := pod.Spec.Containers[0]
	addons, err := images.addonsPath(c.Image)
	if err != nil {
		return nil, err
	}
	cmd := append(append([]string{}, c.Command...), c.Args...)
	if len(cmd) == 0 {
		return nil, unsupported("container %q has no command: the image's /entrypoint.sh is not run in the sandbox (it copies db_password onto the command line); use `odoo -c <conf>`", c.Name)
	}
	for _, a := range cmd {
		if hasVarReference(a) {
			return nil, unsupported("$(VAR) references in the command are not expanded: %q", a)
		}
	}
	dir := filepath.Join(pl.workDir, string(pod.UID))
	p := &plan{dir: dir, terminationLog: filepath.Join(dir, "termination-log"), criLog: true,
		fallbackToLogs: c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError}
	paths, _, err := pl.mounts(ctx, pod, c, p)
	if err != nil {
		return nil, err
	}
	if err := pl.env(ctx, pod, c, paths, p); err != nil {
		return nil, err
	}
	if dir := images.sitePath(c.Image); dir != "" {
		p.env = append(p.env, "PYTHONPATH="+dir)
	}
	switch filepath.Base(cmd[0]) {
	case "odoo", "odoo-bin":
		p.binary = pythonBinary
		rest := make([]string, 0, len(cmd))
		for _, a := range cmd[1:] {
			rest = append(rest, paths.rewrite(a))
		}
		p.args = append([]string{filepath.Join(images.odooDir, "odoo-bin")}, odooArgs(rest, addons, dataDir(rest, paths), ports)...)
	case "sh", "bash":
		if len(cmd) != 3 || cmd[1] != "-c" {
			return nil, unsupported("only `sh -c <script>` runs in the Odoo image, not %q", cmd)
		}
		p.binary = "/bin/sh"
		p.args = []string{"-c", paths.replaceIn(cmd[2], filepath.Join(p.dir, "tmp"))}
		// `odoo` in the script (the preflight's `odoo shell`) is the
		// image's Odoo: a shim first on the PATH runs the sandbox's with
		// the variant's add-ons path, given last so it wins over the
		// script's own (a container path).
		if err := odooShim(p, images.odooDir, addons); err != nil {
			return nil, err
		}
	default:
		return nil, unsupported("container %q runs %q: the sandbox's Odoo image runs `odoo ...` (not /entrypoint.sh, which copies db_password onto the command line) or `sh -c`", c.Name, cmd[0])
	}
	return p, nil
}

// odooShim writes <dir>/bin/odoo and puts that directory first on the
// process's PATH.
func odooShim(p *plan, odooDir, addons string) error {
	bin := filepath.Join(p.dir, "bin")
	if err := os.MkdirAll(bin, 0o750); err != nil {
		return err
	}
	script := "#!/bin/sh\nexec " + pythonBinary + " " + shellQuote(filepath.Join(odooDir, "odoo-bin")) + ` "$@" ` + shellQuote("--addons-path="+addons) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "odoo"), []byte(script), 0o750); err != nil { //nolint:gosec // an executable for the pod's process
		return err
	}
	for i, e := range p.env {
		if strings.HasPrefix(e, "PATH=") {
			p.env[i] = "PATH=" + bin + ":" + strings.TrimPrefix(e, "PATH=")
		}
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// odooArgs inserts the sandbox's options after Odoo's subcommand (e.g.
// "neutralize", which must come first) or at the front.
func odooArgs(args []string, addons, dataDir string, ports odooPorts) []string {
	at := 0
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		at = 1
	}
	extra := []string{"--addons-path=" + addons}
	if dataDir != "" {
		extra = append(extra, "--data-dir="+dataDir)
	}
	if ports.http != 0 {
		extra = append(extra, "--http-interface=127.0.0.1", "--http-port="+strconv.Itoa(ports.http))
	}
	if ports.gevent != 0 {
		extra = append(extra, "--gevent-port="+strconv.Itoa(ports.gevent))
	}
	return slices.Concat(args[:at], extra, args[at:])
}

// dataDir is the host directory behind the data_dir of the config file the
// arguments name (-c/--config, already rewritten to its host copy), or "".
func dataDir(args []string, paths pathMap) string {
	var conf string
	for i, a := range args {
		switch {
		case (a == "-c" || a == "--config") && i+1 < len(args):
			conf = args[i+1]
		case strings.HasPrefix(a, "--config="):
			conf = strings.TrimPrefix(a, "--config=")
		}
	}
	if conf == "" {
		return ""
	}
	f, err := os.Open(conf) //nolint:gosec // the pod's own materialised Secret
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "data_dir" {
			v = strings.TrimSpace(v)
			if host := paths.rewrite(v); host != v {
				return host
			}
		}
	}
	return ""
}

// wantsHTTP is true for a pod whose Odoo serves HTTP: a long-running pod
// (restartPolicy Always) not started with --no-http.
func wantsHTTP(pod *corev1.Pod) bool {
	if pod.Spec.RestartPolicy != corev1.RestartPolicyAlways && pod.Spec.RestartPolicy != "" {
		return false
	}
	c := pod.Spec.Containers[0]
	return !slices.Contains(append(append([]string{}, c.Command...), c.Args...), "--no-http")
}

// wantsGevent is true in prefork mode (--workers=N, N > 0), where Odoo
// starts its gevent (websocket) server on a port of its own.
func wantsGevent(pod *corev1.Pod) bool {
	c := pod.Spec.Containers[0]
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		if n, ok := strings.CutPrefix(a, "--workers="); ok {
			w, _ := strconv.Atoi(n)
			return w > 0
		}
	}
	return false
}

// probePath is the path of the container's readiness probe, or Odoo's
// health endpoint.
func probePath(pod *corev1.Pod) string {
	c := pod.Spec.Containers[0]
	if p := c.ReadinessProbe; p != nil && p.HTTPGet != nil && p.HTTPGet.Path != "" {
		return p.HTTPGet.Path
	}
	return "/web/health"
}

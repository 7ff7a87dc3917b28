package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// plan is what the player runs for a pod: the host's operator binary with
// the pod's `data ...` arguments and environment, paths rewritten to the
// host directories behind the pod's volumes.
type plan struct {
	// binary is what runs: the operator binary for data Jobs, Python with
	// odoo-bin for Odoo pods.
	binary string
	args   []string
	// env holds the resolved values, secrets included: it goes to the
	// process only, never to a log line.
	env []string
	// envNames lists the variables' names, for the log.
	envNames []string
	// dir is the pod's scratch directory (emptyDirs, TMPDIR, the
	// termination log), removed once the run is reported.
	dir            string
	terminationLog string
	// fallbackToLogs: the container's terminationMessagePolicy is
	// FallbackToLogsOnError.
	fallbackToLogs bool
	// criLog writes the output in the container runtime's log format, for
	// kwok to serve as the pod's log.
	criLog bool
}

// errUnsupported marks a pod the player cannot run faithfully: it fails
// the pod with the reason instead of guessing.
var errUnsupported = errors.New("unsupported by the sandbox job player")

// errNotReady marks what a kubelet would wait for too (a Secret not there
// yet, a claim not bound): the pod is looked at again later.
var errNotReady = errors.New("not ready")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, args...))
}

// planner turns a pod into a plan, reading Secrets, ConfigMaps, claims and
// volumes straight from the API server.
type planner struct {
	api      client.Reader
	binary   string
	pgBinDir string
	workDir  string
}

// plan resolves the pod's first container: the data Jobs have one.
func (pl *planner) plan(ctx context.Context, pod *corev1.Pod) (*plan, error) {
	if len(pod.Spec.Containers) == 0 {
		return nil, unsupported("the pod has no container")
	}
	c := pod.Spec.Containers[0]
	cmd := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 || len(cmd) < 2 || cmd[1] != "data" {
		return nil, unsupported("container %q does not run `<operator binary> data ...` (command %q)", c.Name, cmd)
	}
	for _, a := range cmd {
		if hasVarReference(a) {
			return nil, unsupported("$(VAR) references in the command are not expanded: %q", a)
		}
	}
	dir := filepath.Join(pl.workDir, string(pod.UID))
	p := &plan{binary: pl.binary, dir: dir, terminationLog: filepath.Join(dir, "termination-log"), fallbackToLogs: c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError}
	paths, unmapped, err := pl.mounts(ctx, pod, c, p)
	if err != nil {
		return nil, err
	}
	// The termination log goes right after `data` (a persistent flag of the
	// data command); the container's own path maps to the same file.
	p.args = append([]string{"data", "--termination-log=" + p.terminationLog}, cmd[2:]...)
	for i := 2; i < len(p.args); i++ {
		if u := unmapped.rewrite(p.args[i]); u != p.args[i] {
			return nil, unsupported("argument %q names a path in a volume the player cannot map %s", p.args[i], u)
		}
		p.args[i] = paths.rewrite(p.args[i])
	}
	if err := pl.env(ctx, pod, c, paths, p); err != nil {
		return nil, err
	}
	return p, nil
}

// mounts maps each volumeMount of c to a host directory: a claim's
// hostPath PersistentVolume (hack/sandbox-provisioner makes them), a
// hostPath volume, or a scratch directory for an emptyDir.
func (pl *planner) mounts(ctx context.Context, pod *corev1.Pod, c corev1.Container, p *plan) (paths, unmapped pathMap, err error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	tmPath := c.TerminationMessagePath
	if tmPath == "" {
		tmPath = corev1.TerminationMessagePathDefault
	}
	ms := []mapping{{container: tmPath, host: p.terminationLog}}
	var others []mapping
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return nil, nil, unsupported("volumeMount %q names no volume", m.Name)
		}
		var host string
		switch {
		case v.PersistentVolumeClaim != nil:
			if host, err = pl.claimDir(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName); err != nil {
				return nil, nil, err
			}
		case v.HostPath != nil:
			host = v.HostPath.Path
		case v.EmptyDir != nil:
			host = filepath.Join(p.dir, "volumes", v.Name)
		case v.Secret != nil:
			if host, err = pl.secretDir(ctx, pod.Namespace, v, p); err != nil {
				return nil, nil, err
			}
		default:
			// E.g. the ServiceAccount token the API server adds (a
			// projected volume): fine
			// while the command names no path in it.
			others = append(others, mapping{container: m.MountPath, host: "(volume " + v.Name + ": not a claim, a hostPath or an emptyDir)"})
			continue
		}
		if m.SubPathExpr != "" {
			return nil, nil, unsupported("volumeMount %q uses subPathExpr", m.Name)
		}
		host = filepath.Join(host, m.SubPath)
		// A kubelet creates the directory behind a new volume; the
		// provisioner leaves that to the first pod.
		if err := os.MkdirAll(host, 0o750); err != nil {
			return nil, nil, err
		}
		ms = append(ms, mapping{container: m.MountPath, host: host})
	}
	return newPathMap(ms...), newPathMap(others...), nil
}

// secretDir materialises a Secret volume the way a kubelet does (each key,
// or the listed items, as a file) into the run's private directory: the
// directory 0700, the files 0600 whatever the volume's defaultMode, since
// every process on the host can read a more open file. A missing Secret is
// waited for, unless optional.
func (pl *planner) secretDir(ctx context.Context, ns string, v corev1.Volume, p *plan) (string, error) {
	src := v.Secret
	s := &corev1.Secret{}
	_, ok, err := keyOf(pl.api.Get(ctx, client.ObjectKey{Namespace: ns, Name: src.SecretName}, s),
		"Secret", src.SecretName, "", src.Optional, func() (string, bool) { return "", true })
	if err != nil {
		return "", err
	}
	dir := filepath.Join(p.dir, "secrets", v.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(filepath.Dir(dir), 0o700); err != nil { //nolint:gosec // a directory: 0700 is private
		return "", err
	}
	if !ok {
		return dir, nil
	}
	files := map[string][]byte{}
	if len(src.Items) == 0 {
		for k, b := range s.Data {
			files[k] = b
		}
	}
	for _, it := range src.Items {
		b, found := s.Data[it.Key]
		if !found {
			if src.Optional == nil || !*src.Optional {
				return "", fmt.Errorf("%w: Secret %s has no key %s", errNotReady, src.SecretName, it.Key)
			}
			continue
		}
		files[it.Path] = b
	}
	for name, b := range files {
		if strings.Contains(name, "..") || filepath.IsAbs(name) {
			return "", unsupported("Secret %s: item path %q", src.SecretName, name)
		}
		f := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// claimDir is the host directory of a bound claim's hostPath volume.
func (pl *planner) claimDir(ctx context.Context, ns, name string) (string, error) {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := pl.api.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pvc); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("%w: claim %s/%s does not exist", errNotReady, ns, name)
		}
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("%w: claim %s/%s is not bound", errNotReady, ns, name)
	}
	pv := &corev1.PersistentVolume{}
	if err := pl.api.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv); err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", unsupported("volume %s of claim %s/%s is not a hostPath volume", pv.Name, ns, name)
	}
	return pv.Spec.HostPath.Path, nil
}

// env resolves c's environment the way a kubelet does (value,
// secretKeyRef, configMapKeyRef, a few fieldRefs, envFrom), without $(VAR)
// expansion, which the data Jobs do not use. The process also gets PATH,
// PG_BIN_DIR (the host's PostgreSQL client tools, unless the pod sets it),
// TMPDIR and HOME in the pod's scratch directory, and the player's own
// SSL_CERT_FILE (the trust store the image would have).
func (pl *planner) env(ctx context.Context, pod *corev1.Pod, c corev1.Container, paths pathMap, p *plan) error {
	tmp := filepath.Join(p.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return err
	}
	p.env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp, "HOME=" + tmp, "PG_BIN_DIR=" + pl.pgBinDir}
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		// The pod image's trust store: the sandbox's CA besides the
		// system's, so a test's https server can play a real source.
		p.env = append(p.env, "SSL_CERT_FILE="+f)
	}
	set := func(name, value string) {
		p.env = append(p.env, name+"="+value)
		p.envNames = append(p.envNames, name)
	}
	for _, from := range c.EnvFrom {
		data, err := pl.envSource(ctx, pod.Namespace, from)
		if err != nil {
			return err
		}
		for k, v := range data {
			set(from.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			if strings.Contains(e.Value, "$(") {
				return unsupported("$(VAR) references in env %s are not expanded", e.Name)
			}
			set(e.Name, paths.rewrite(e.Value))
			continue
		}
		v, ok, err := pl.envValue(ctx, pod, e.ValueFrom)
		if err != nil {
			return fmt.Errorf("env %s: %w", e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	return nil
}

// envValue resolves one valueFrom; ok is false for an optional key that is
// missing.
func (pl *planner) envValue(ctx context.Context, pod *corev1.Pod, src *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s := &corev1.Secret{}
		return keyOf(pl.api.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: ref.Name}, s),
			"Secret", ref.Name, ref.Key, ref.Optional, func() (string, bool) { v, ok := s.Data[ref.Key]; return string(v), ok })
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm := &corev1.ConfigMap{}
		return keyOf(pl.api.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: ref.Name}, cm),
			"ConfigMap", ref.Name, ref.Key, ref.Optional, func() (string, bool) { v, ok := cm.Data[ref.Key]; return v, ok })
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "metadata.name":
			return pod.Name, true, nil
		case "metadata.namespace":
			return pod.Namespace, true, nil
		case "metadata.uid":
			return string(pod.UID), true, nil
		case "spec.nodeName":
			return pod.Spec.NodeName, true, nil
		}
		return "", false, unsupported("fieldRef %s", src.FieldRef.FieldPath)
	}
	return "", false, unsupported("a valueFrom other than secretKeyRef, configMapKeyRef or fieldRef")
}

// keyOf reads key from a Secret or ConfigMap just fetched with getErr. A
// missing object or key is waited for, as a kubelet does, unless optional.
func keyOf(getErr error, kind, name, key string, optional *bool, read func() (string, bool)) (string, bool, error) {
	opt := optional != nil && *optional
	if apierrors.IsNotFound(getErr) {
		if opt {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%w: %s %s does not exist", errNotReady, kind, name)
	}
	if getErr != nil {
		return "", false, getErr
	}
	v, ok := read()
	if !ok && !opt {
		return "", false, fmt.Errorf("%w: %s %s has no key %s", errNotReady, kind, name, key)
	}
	return v, ok, nil
}

// envSource reads all keys of an envFrom Secret or ConfigMap.
func (pl *planner) envSource(ctx context.Context, ns string, from corev1.EnvFromSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case from.SecretRef != nil:
		s := &corev1.Secret{}
		_, _, err := keyOf(pl.api.Get(ctx, client.ObjectKey{Namespace: ns, Name: from.SecretRef.Name}, s),
			"Secret", from.SecretRef.Name, "", from.SecretRef.Optional, func() (string, bool) { return "", true })
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, err
	case from.ConfigMapRef != nil:
		cm := &corev1.ConfigMap{}
		_, _, err := keyOf(pl.api.Get(ctx, client.ObjectKey{Namespace: ns, Name: from.ConfigMapRef.Name}, cm),
			"ConfigMap", from.ConfigMapRef.Name, "", from.ConfigMapRef.Optional, func() (string, bool) { return "", true })
		for k, v := range cm.Data {
			out[k] = v
		}
		return out, err
	}
	return nil, unsupported("an envFrom other than secretRef or configMapRef")
}

// varReference is what the kubelet expands in a container's command and
// arguments: $(NAME), NAME an environment variable's name. A shell's own
// command substitution, such as $(wc -l < f) in the filestore copy Job's
// script, is not one (the kubelet leaves it to the shell).
var varReference = regexp.MustCompile(`\$\([-._a-zA-Z][-._a-zA-Z0-9]*\)`)

// hasVarReference reports whether a holds a $(VAR) reference the player
// would have to expand as the kubelet does (it does not).
func hasVarReference(a string) bool {
	return varReference.MatchString(a)
}

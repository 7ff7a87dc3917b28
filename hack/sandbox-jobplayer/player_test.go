package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// The player against a real kube-apiserver, with a stand-in for the
// operator binary: a shell script that records the arguments and the
// environment it was given, writes a result to the termination log and
// exits with EXIT_WITH.

var kube client.Client

func TestMain(m *testing.M) {
	env, cfg, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kube, err = client.New(cfg, client.Options{})
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	_ = env.Stop()
	os.Exit(code)
}

const fakeBinary = `#!/bin/sh
printf '%s\n' "$@" > "$RECORD.args"
env > "$RECORD.env"
printf '{"command":"fake","ok":true}' > "${2#--termination-log=}"
exit "${EXIT_WITH:-0}"
`

const secretValue = "s3cr3t-pa55word"

// syncBuffer collects the player's log lines, written from its runs' goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	t       *testing.T
	ns      string
	p       *player
	record  string
	backups string
	logs    *syncBuffer
}

func newFixture(t *testing.T, ns string) *fixture {
	t.Helper()
	dir := t.TempDir()
	binary := filepath.Join(dir, "odoo-operator")
	if err := os.WriteFile(binary, []byte(fakeBinary), 0o700); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fixture{t: t, ns: ns, record: filepath.Join(dir, "record"), backups: filepath.Join(dir, "volumes", "backups"), logs: logs,
		p: &player{
			Client:  kube,
			planner: &planner{api: kube, binary: binary, pgBinDir: "/usr/lib/postgresql/15/bin", workDir: filepath.Join(dir, "work")},
			logsDir: filepath.Join(dir, "logs"), base: ctx,
			running: map[types.NamespacedName]run{}, done: map[types.UID]bool{},
		}}
	for _, d := range []string{f.p.logsDir, f.p.planner.workDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	f.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	// A claim bound to a hostPath volume, as hack/sandbox-provisioner makes them.
	pvName := "pv-" + ns
	f.create(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pvName}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: f.backups}},
	}})
	f.create(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "backups", Namespace: ns}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: pvName,
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}})
	return f
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		f.t.Fatal(err)
	}
}

// pod creates a Running data Job pod: a backup to the claim with the
// filestore in an emptyDir, the password from a Secret.
func (f *fixture) pod(name, exitWith string, annotations map[string]string, command ...string) *corev1.Pod {
	f.t.Helper()
	if command == nil {
		command = []string{"/odoo-operator/odoo-operator", "data", "backup", "--to", "file:///backup-store/shop.zip", "--filestore", "/var/lib/odoo/filestore/db"}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Annotations: annotations, Labels: map[string]string{resources.DataJobLabel: "true"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "data", Image: "postgres:15", Command: command,
				Env: []corev1.EnvVar{
					{Name: "PGHOST", Value: "127.0.0.1"},
					{Name: "PGPASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "shop-odoo-user"}, Key: "password"}}},
					{Name: "RECORD", Value: f.record},
					{Name: "EXIT_WITH", Value: exitWith},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "backup-store", MountPath: "/backup-store"},
					{Name: "filestore", MountPath: "/var/lib/odoo", ReadOnly: true},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "backup-store", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "backups"}}},
				{Name: "filestore", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
	f.create(pod)
	pod.Status.Phase = corev1.PodRunning
	if err := kube.Status().Update(context.Background(), pod); err != nil {
		f.t.Fatal(err)
	}
	return pod
}

func (f *fixture) reconcile(pod *corev1.Pod) ctrl.Result {
	f.t.Helper()
	res, err := f.p.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(pod)})
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	return res
}

// exitCode waits for the exit code annotation and returns it with the
// termination message.
func (f *fixture) exitCode(pod *corev1.Pod) (string, string) {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got := &corev1.Pod{}
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(pod), got); err != nil {
			f.t.Fatal(err)
		}
		if code, ok := got.Annotations[annExitCode]; ok {
			return code, got.Annotations[annMessage]
		}
	}
	f.t.Fatalf("pod %s got no %s annotation", pod.Name, annExitCode)
	return "", ""
}

func (f *fixture) ran() bool {
	_, err := os.Stat(f.record + ".args")
	return err == nil
}

func TestPlayerRunsTheDataCommandOnTheHost(t *testing.T) {
	f := newFixture(t, "play")
	pod := f.pod("backup-1", "0", nil)

	// The Secret does not exist yet: the player waits, as a kubelet does.
	if res := f.reconcile(pod); res.RequeueAfter == 0 || f.ran() {
		t.Fatalf("reconcile without the Secret: %+v, ran %v; want a requeue and no run", res, f.ran())
	}
	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-odoo-user", Namespace: f.ns}, Data: map[string][]byte{"password": []byte(secretValue)}})
	f.reconcile(pod)
	code, msg := f.exitCode(pod)
	if code != "0" || msg != `{"command":"fake","ok":true}` {
		t.Errorf("exit code %q, message %q", code, msg)
	}

	args, err := os.ReadFile(f.record + ".args")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(args)), "\n")
	work := filepath.Join(f.p.planner.workDir, string(pod.UID))
	want := []string{"data", "--termination-log=" + filepath.Join(work, "termination-log"), "backup",
		"--to", "file://" + f.backups + "/shop.zip", "--filestore", filepath.Join(work, "volumes", "filestore", "filestore", "db")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("arguments\n got %q\nwant %q", got, want)
	}
	env, err := os.ReadFile(f.record + ".env")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PGPASSWORD=" + secretValue, "PGHOST=127.0.0.1", "PG_BIN_DIR=/usr/lib/postgresql/15/bin", "TMPDIR=" + filepath.Join(work, "tmp")} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("the command's environment lacks %s", want)
		}
	}
	if fi, err := os.Stat(f.backups); err != nil || !fi.IsDir() {
		t.Errorf("the claim's directory %s was not created: %v", f.backups, err)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("the pod's scratch directory is left behind: %v", err)
	}
	if logs := f.logs.String(); strings.Contains(logs, secretValue) || !strings.Contains(logs, "PGPASSWORD") {
		t.Errorf("the player's log must name PGPASSWORD but never hold its value:\n%s", logs)
	}

	// Once reported, the pod is never run again, by this player or a new one.
	if err := os.Remove(f.record + ".args"); err != nil {
		t.Fatal(err)
	}
	f.reconcile(pod)
	f.p = &player{Client: f.p.Client, planner: f.p.planner, logsDir: f.p.logsDir, base: f.p.base,
		running: map[types.NamespacedName]run{}, done: map[types.UID]bool{}}
	f.reconcile(pod)
	time.Sleep(200 * time.Millisecond)
	if f.ran() {
		t.Error("a reported pod was run again")
	}
}

func TestPlayerReportsFailures(t *testing.T) {
	f := newFixture(t, "play-fail")
	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-odoo-user", Namespace: f.ns}, Data: map[string][]byte{"password": []byte(secretValue)}})

	t.Run("the command's exit code", func(t *testing.T) {
		pod := f.pod("exit-3", "3", nil)
		f.reconcile(pod)
		if code, _ := f.exitCode(pod); code != "3" {
			t.Errorf("exit code %q, want 3", code)
		}
	})
	t.Run("a run a previous player started and never reported", func(t *testing.T) {
		_ = os.Remove(f.record + ".args")
		pod := f.pod("lost", "0", map[string]string{annStarted: "2026-11-26T00:00:00Z"})
		f.reconcile(pod)
		code, msg := f.exitCode(pod)
		if code != "137" || !strings.Contains(msg, "player stopped during the run") {
			t.Errorf("exit code %q, message %q; want 137 and the reason", code, msg)
		}
		if f.ran() {
			t.Error("the lost run was run again")
		}
	})
	t.Run("a pod that does not run the data command", func(t *testing.T) {
		pod := f.pod("not-data", "0", nil, "/entrypoint.sh", "odoo")
		f.reconcile(pod)
		code, msg := f.exitCode(pod)
		if code != "128" || !strings.Contains(msg, "does not run `<operator binary> data ...`") {
			t.Errorf("exit code %q, message %q", code, msg)
		}
	})
}

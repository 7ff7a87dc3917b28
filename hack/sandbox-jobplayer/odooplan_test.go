package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOdooImagesAddonsPath(t *testing.T) {
	addons := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(addons, v), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	im := odooImages{odooDir: "/odoo", addonsDir: addons}
	base := "/odoo/addons,/odoo/odoo/addons"
	for _, tt := range []struct{ image, want string }{
		{"odoo:18.0", base},
		{"odoo:18.0-v1", base + "," + filepath.Join(addons, "v1")},
		{"odoo:18.0-v2", base + "," + filepath.Join(addons, "v2")},
		{"odoo:18.0-v3", ""},
		{"odoo:18.1", ""},
		{"odoo:18.0-../v1", ""},
		{"odoo:18.0-", ""},
	} {
		got, err := im.addonsPath(tt.image)
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.image, got, tt.want)
		}
		if tt.want == "" && (err == nil || !strings.Contains(err.Error(), "18.0, 18.0-v1, 18.0-v2")) {
			t.Errorf("%s: the error must list the tags the sandbox has, got %v", tt.image, err)
		}
	}
	for image, want := range map[string]bool{"odoo:18.0": true, "odoo-sim:18.0": false, "registry/odoo:18.0": false, "odoo": false} {
		if isOdooImage(image) != want {
			t.Errorf("isOdooImage(%q) != %v", image, want)
		}
	}
}

// TestOdooImagesSitePath: only a variant with a sitecustomize.py gets its
// directory on PYTHONPATH.
func TestOdooImagesSitePath(t *testing.T) {
	addons := t.TempDir()
	for _, v := range []string{"v1", "series"} {
		if err := os.Mkdir(filepath.Join(addons, v), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(addons, "series", "sitecustomize.py"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	im := odooImages{odooDir: "/odoo", addonsDir: addons}
	for image, want := range map[string]string{
		"odoo:18.0-series":     filepath.Join(addons, "series"),
		"odoo:18.0-v1":         "",
		"odoo:18.0":            "",
		"odoo:18.0-../series":  "",
		"odoo-sim:18.0-series": "",
	} {
		if got := im.sitePath(image); got != want {
			t.Errorf("sitePath(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestOdooArgs(t *testing.T) {
	ports := odooPorts{http: 31000}
	got := odooArgs([]string{"-c", "/h/odoo.conf", "--workers=0"}, "A", "/data", ports)
	if strings.Join(got, " ") != "--addons-path=A --data-dir=/data --http-interface=127.0.0.1 --http-port=31000 -c /h/odoo.conf --workers=0" {
		t.Errorf("server: %q", got)
	}
	// A subcommand stays first, where Odoo looks for it.
	got = odooArgs([]string{"neutralize", "-c", "/h/odoo.conf", "-d", "db"}, "A", "", odooPorts{})
	if strings.Join(got, " ") != "neutralize --addons-path=A -c /h/odoo.conf -d db" {
		t.Errorf("neutralize: %q", got)
	}
}

func TestDataDirFromConf(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "odoo.conf")
	if err := os.WriteFile(conf, []byte("[options]\ndb_password = x\ndata_dir = /var/lib/odoo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pm := newPathMap(mapping{container: "/var/lib/odoo", host: "/vol/fs"})
	if got := dataDir([]string{"-c", conf}, pm); got != "/vol/fs" {
		t.Errorf("got %q", got)
	}
	if got := dataDir([]string{"--config=" + conf}, newPathMap()); got != "" {
		t.Errorf("an unmapped data_dir is left to the file, got %q", got)
	}
}

func TestReplaceInScript(t *testing.T) {
	pm := newPathMap(mapping{container: "/mnt/old", host: "/v/a"}, mapping{container: "/mnt/new", host: "/v/b"})
	got := pm.replaceIn("cd /mnt/old\ncp -a -t /mnt/new {} +\nsums /mnt/old > /tmp/old.md5\necho /mnt/oldish", "/s/tmp")
	want := "cd /v/a\ncp -a -t /v/b {} +\nsums /v/a > /s/tmp/old.md5\necho /mnt/oldish"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPodStatus(t *testing.T) {
	now := metav1.NewTime(time.Unix(1000, 0))
	web := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "odoo", Image: "odoo:18.0"}}},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}}
	job := web.DeepCopy()
	job.Spec.RestartPolicy = corev1.RestartPolicyNever
	cond := func(s corev1.PodStatus, ty corev1.PodConditionType) corev1.ConditionStatus {
		for _, c := range s.Conditions {
			if c.Type == ty {
				return c.Status
			}
		}
		return ""
	}
	for _, tt := range []struct {
		name      string
		pod       *corev1.Pod
		st        containerState
		phase     corev1.PodPhase
		ready     corev1.ConditionStatus
		stateWord string
	}{
		{"starting web", web, containerState{running: &now}, corev1.PodRunning, corev1.ConditionFalse, "running"},
		{"ready web", web, containerState{running: &now, ready: true}, corev1.PodRunning, corev1.ConditionTrue, "running"},
		{"image missing", web, containerState{waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}, corev1.PodPending, corev1.ConditionFalse, "waiting"},
		{"crash loop", web, containerState{restartCount: 2, waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"},
			last: &corev1.ContainerStateTerminated{ExitCode: 1}}, corev1.PodRunning, corev1.ConditionFalse, "waiting"},
		{"job succeeded", job, containerState{terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}, corev1.PodSucceeded, corev1.ConditionFalse, "terminated"},
		{"job failed", job, containerState{terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "boom"}}, corev1.PodFailed, corev1.ConditionFalse, "terminated"},
	} {
		s := podStatus(tt.pod, tt.st, now)
		if s.Phase != tt.phase || cond(s, corev1.PodReady) != tt.ready || cond(s, corev1.PodScheduled) != corev1.ConditionTrue {
			t.Errorf("%s: phase %s ready %s scheduled %s", tt.name, s.Phase, cond(s, corev1.PodReady), cond(s, corev1.PodScheduled))
		}
		cs := s.ContainerStatuses[0]
		got := map[bool]string{cs.State.Running != nil: "running", cs.State.Waiting != nil: "waiting", cs.State.Terminated != nil: "terminated"}[true]
		if got != tt.stateWord || cs.RestartCount != tt.st.restartCount {
			t.Errorf("%s: state %s restarts %d", tt.name, got, cs.RestartCount)
		}
		if tt.st.last != nil && cs.LastTerminationState.Terminated == nil {
			t.Errorf("%s: lastState lost", tt.name)
		}
	}
	if backoff(1) != 10*time.Second || backoff(2) != 20*time.Second || backoff(10) != 5*time.Minute {
		t.Errorf("backoff: %s %s %s", backoff(1), backoff(2), backoff(10))
	}
}

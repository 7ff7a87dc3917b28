//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// The end-to-end acceptance of the guarded module upgrade (issue 5). Odoo's
// side is modelled in the sandbox's real PostgreSQL: an ir_module_module
// fixture in the instance's database. KWOK plays the pods: Job pods exit 0
// within a second, and pods of an image ending in -broken exit 255 and serve
// real Odoo failure lines as their log.

const (
	fromImage   = "odoo-sim:18.0" // instanceManifest's image
	toImage     = "odoo-sim:18.1"
	brokenImage = "odoo-sim:18.0-broken"

	jobKindLabel  = "bemade.org/job"
	instanceLabel = "bemade.org/instance"
)

// odooRef is the v1alpha2 name of an instance for kubectl.
func odooRef(name string) string {
	return "odooinstances.v1alpha2.bemade.org/" + name
}

// upgradeInstance creates instanceManifest("shop") with extraSpec appended
// to its spec, waits until it is Ready and, with fixture, gives its database
// an ir_module_module table. It returns the database name.
func upgradeInstance(t *testing.T, ns, extraSpec string, fixture bool) string {
	t.Helper()
	const name = "shop"
	framework.Apply(t, ns, instanceManifest(name)+extraSpec)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/"+name, "{.status.database.name}")
	if db == "" {
		t.Fatalf("instance %s has no status.database.name", name)
	}
	if fixture {
		framework.ModuleFixture(t, db)
	}
	return db
}

func setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	framework.Kubectl(t, "patch", "-n", ns, odooRef(name), "--type=merge", "-p", fmt.Sprintf(`{"spec":{"image":%q}}`, image))
}

func getInstance(t *testing.T, c *framework.Clients, ns, name string) *odoov1alpha2.OdooInstance {
	t.Helper()
	inst := &odoov1alpha2.OdooInstance{}
	if err := c.GetInstance(context.Background(), ns, name, inst); err != nil {
		t.Fatalf("get OdooInstance %s/%s: %v", ns, name, err)
	}
	return inst
}

// waitUpgrade waits until the upgrade that match selects has ended with phase.
func waitUpgrade(t *testing.T, c *framework.Clients, ns, name string, phase odoov1alpha2.UpgradePhase,
	match func(*odoov1alpha2.UpgradeStatus) bool) *odoov1alpha2.UpgradeStatus {
	t.Helper()
	var st *odoov1alpha2.UpgradeStatus
	framework.Eventually(t, wait, fmt.Sprintf("%s: upgrade phase %s", name, phase), func() error {
		inst := &odoov1alpha2.OdooInstance{}
		if err := c.GetInstance(context.Background(), ns, name, inst); err != nil {
			return err
		}
		st = inst.Status.Upgrade
		switch {
		case st == nil:
			return fmt.Errorf("no status.upgrade")
		case !match(st):
			return fmt.Errorf("not the expected upgrade yet: %+v", *st)
		case st.Phase != phase || st.Step != odoov1alpha2.UpgradeStepDone:
			return fmt.Errorf("phase %s step %s: %s", st.Phase, st.Step, st.Message)
		}
		return nil
	})
	return st
}

func attempted(image string) func(*odoov1alpha2.UpgradeStatus) bool {
	return func(st *odoov1alpha2.UpgradeStatus) bool { return st.ImageAttempted == image }
}

// instanceJobs lists the Jobs of one kind (bemade.org/job) of an instance.
func instanceJobs(t *testing.T, c *framework.Clients, ns, name, kind string) []batchv1.Job {
	t.Helper()
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: jobKindLabel + "=" + kind + "," + instanceLabel + "=" + name,
	})
	if err != nil {
		t.Fatal(err)
	}
	return jobs.Items
}

func jobNames(jobs []batchv1.Job) []string {
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	return names
}

// jobFinished reports whether a Job has ended, and whether it succeeded.
func jobFinished(j *batchv1.Job) (finished, succeeded bool) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, true
		case batchv1.JobFailed:
			return true, false
		}
	}
	return false, false
}

// waitTier waits until a Deployment runs image with its one replica
// available and nothing else left (its rollout is complete).
func waitTier(t *testing.T, ns, deploy, image string) {
	t.Helper()
	const replicas = 1
	framework.Eventually(t, wait, deploy+" on "+image, func() error {
		got := jsonpath(t, ns, "deploy/"+deploy, `{.spec.template.spec.containers[0].image} {.spec.replicas} {.status.replicas} {.status.updatedReplicas} {.status.availableReplicas}`)
		want := fmt.Sprintf("%s %d %d %d %d", image, replicas, replicas, replicas, replicas)
		if strings.Join(strings.Fields(got), " ") != want {
			return fmt.Errorf("image replicas status.replicas updated available = %q, want %q", got, want)
		}
		return nil
	})
}

// waitEvents waits for events of the instance with these reasons; it returns
// the type of each (Normal, Warning).
func waitEvents(t *testing.T, ns, name string, reasons ...string) map[string]string {
	t.Helper()
	types := map[string]string{}
	framework.Eventually(t, wait, "events "+strings.Join(reasons, ", "), func() error {
		out := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name,
			"-o", `jsonpath={range .items[*]}{.reason} {.type}{"\n"}{end}`)
		for _, line := range strings.Split(out, "\n") {
			if reason, typ, ok := strings.Cut(line, " "); ok {
				types[reason] = typ
			}
		}
		for _, r := range reasons {
			if types[r] == "" {
				return fmt.Errorf("no %s event among %v", r, types)
			}
		}
		return nil
	})
	return types
}

// restorePointBackups lists the instance's restore point OdooBackupJobs
// (label bemade.org/upgrade-restore-point) as "name phase".
func restorePointBackups(t *testing.T, ns, name string) []string {
	t.Helper()
	out := framework.Kubectl(t, "get", "odoobackupjobs.v1alpha2.bemade.org", "-n", ns,
		"-l", "bemade.org/upgrade-restore-point=true,"+instanceLabel+"="+name,
		"-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}`)
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(out), " ", "="))
}

// checkRestorePoint checks that status.upgrade names its restore point, an
// OdooBackupJob of the instance in dump format without the filestore that
// reached Completed with exactly one Job, and that it is the only one.
func checkRestorePoint(t *testing.T, c *framework.Clients, ns, name string, st *odoov1alpha2.UpgradeStatus) {
	t.Helper()
	if want := name + "-pre-upgrade-"; !strings.HasPrefix(st.RestorePointBackup, want) {
		t.Errorf("status.upgrade.restorePointBackup = %q, want %s<hash>", st.RestorePointBackup, want)
		return
	}
	ref := "odoobackupjobs.v1alpha2.bemade.org/" + st.RestorePointBackup
	got := jsonpath(t, ns, ref, "{.spec.odooInstanceRef.name} {.spec.format} {.spec.withFilestore} {.status.phase} {.status.jobName} {.metadata.ownerReferences[0].kind}")
	if want := fmt.Sprintf("%s dump false Completed %s-backup OdooInstance", name, st.RestorePointBackup); got != want {
		t.Errorf("restore point %s: instance format withFilestore phase jobName owner = %q, want %q", st.RestorePointBackup, got, want)
	}
	if all := restorePointBackups(t, ns, name); len(all) != 1 || all[0] != st.RestorePointBackup+"=Completed" {
		t.Errorf("restore point OdooBackupJobs %v, want only %s, Completed", all, st.RestorePointBackup)
	}
	jobs := instanceJobs(t, c, ns, name, "backup")
	if len(jobs) != 1 || jobs[0].Name != st.RestorePointBackup+"-backup" {
		t.Errorf("backup Jobs %v, want exactly %s-backup", jobNames(jobs), st.RestorePointBackup)
		return
	}
	if _, ok := jobFinished(&jobs[0]); !ok {
		t.Errorf("restore point Job %s did not complete: %+v", jobs[0].Name, jobs[0].Status.Conditions)
	}
}

// ------------------------------------------------------------ recorder

// jobSeen is the instance's upgrade Jobs as one listing showed them.
type jobSeen struct {
	n         int  // upgrade Jobs
	running   bool // one of them has not ended
	succeeded bool // one of them completed
	// restorePointDone: every backup Job of the listing (the restore
	// point OdooBackupJob's) completed (false when there is none).
	restorePointDone bool
}

type deploymentSeen struct {
	found                               bool
	image                               string
	replicas, statusReplicas, available int32
}

// sample is one observation: the Jobs listed, then the Deployments, the
// cron pods and the instance read, then the Jobs listed again. A Job that
// exists unfinished in both listings ran during every read in between (a
// Job never returns from finished to running).
type sample struct {
	at            time.Time
	before, after jobSeen
	web, cron     deploymentSeen
	cronPods      int
	phase         odoov1alpha2.Phase
}

// duringUpgradeJob is true when the upgrade Job ran for the whole sample.
func (s sample) duringUpgradeJob() bool {
	return s.before.running && s.after.running
}

// recorder samples an instance's Deployments, cron pods and upgrade Jobs
// with client-go every 20 ms (or as soon as the previous sample's six reads
// are done: 22-45 ms measured), so that invariants that hold only for a
// second (the upgrade Job's run on KWOK) are checked without racing the
// operator.
type recorder struct {
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	samples []sample
	errs    int
	lastErr error
}

func startRecorder(t *testing.T, c *framework.Clients, ns, name string) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			s, err := takeSample(ctx, c, ns, name)
			switch {
			case err == nil:
				r.samples = append(r.samples, s)
			case ctx.Err() == nil:
				r.errs++
				r.lastErr = err
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop ends the sampling and returns the samples.
func (r *recorder) stop() []sample {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
	return r.samples
}

func takeSample(ctx context.Context, c *framework.Clients, ns, name string) (sample, error) {
	s := sample{at: time.Now()}
	var err error
	if s.before, err = listUpgradeJobs(ctx, c, ns, name); err != nil {
		return s, err
	}
	if s.web, err = readDeployment(ctx, c, ns, name); err != nil {
		return s, err
	}
	if s.cron, err = readDeployment(ctx, c, ns, name+"-cron"); err != nil {
		return s, err
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/instance=" + name + ",app.kubernetes.io/component=cron",
	})
	if err != nil {
		return s, err
	}
	s.cronPods = len(pods.Items)
	inst := &odoov1alpha2.OdooInstance{}
	if err := c.GetInstance(ctx, ns, name, inst); err != nil {
		return s, err
	}
	s.phase = inst.Status.Phase
	s.after, err = listUpgradeJobs(ctx, c, ns, name)
	return s, err
}

func listUpgradeJobs(ctx context.Context, c *framework.Clients, ns, name string) (jobSeen, error) {
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{
		LabelSelector: jobKindLabel + " in (upgrade,backup)," + instanceLabel + "=" + name,
	})
	if err != nil {
		return jobSeen{}, err
	}
	var seen jobSeen
	restorePoints, restorePointsDone := 0, 0
	for i := range jobs.Items {
		j := &jobs.Items[i]
		finished, succeeded := jobFinished(j)
		switch j.Labels[jobKindLabel] {
		case "upgrade":
			seen.n++
			seen.running = seen.running || !finished
			seen.succeeded = seen.succeeded || succeeded
		case "backup":
			restorePoints++
			if succeeded {
				restorePointsDone++
			}
		}
	}
	seen.restorePointDone = restorePoints > 0 && restorePoints == restorePointsDone
	return seen, nil
}

func readDeployment(ctx context.Context, c *framework.Clients, ns, name string) (deploymentSeen, error) {
	d, err := c.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return deploymentSeen{}, nil
	}
	if err != nil {
		return deploymentSeen{}, err
	}
	seen := deploymentSeen{
		found: true, replicas: ptr.Deref(d.Spec.Replicas, 1),
		statusReplicas: d.Status.Replicas, available: d.Status.AvailableReplicas,
	}
	if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
		seen.image = cs[0].Image
	}
	return seen, nil
}

// violations collects broken invariants, reporting the first few of each.
type violations struct {
	t     *testing.T
	count map[string]int
}

func (v *violations) check(ok bool, what string, s sample) {
	if ok {
		return
	}
	if v.count == nil {
		v.count = map[string]int{}
	}
	v.count[what]++
	if v.count[what] <= 3 {
		v.t.Errorf("%s, at %s: %+v", what, s.at.Format("15:04:05.000"), s)
	}
}

func (v *violations) report(n int) {
	for what, c := range v.count {
		v.t.Errorf("%d of %d samples: %s", c, n, what)
	}
}

func (r *recorder) logSummary(t *testing.T, samples []sample) {
	t.Helper()
	during := 0
	for _, s := range samples {
		if s.duringUpgradeJob() {
			during++
		}
	}
	if len(samples) > 1 {
		t.Logf("recorder: %d samples over %v (every %v on average), %d while the upgrade Job ran, %d failed reads (last: %v)",
			len(samples), samples[len(samples)-1].at.Sub(samples[0].at).Round(time.Millisecond),
			(samples[len(samples)-1].at.Sub(samples[0].at) / time.Duration(len(samples)-1)).Round(time.Millisecond),
			during, r.errs, r.lastErr)
	}
}

// ------------------------------------------------------------ tests

// TestUpgradeOnImageChange: a new spec.image runs `odoo -u all` in a Job with
// cron stopped and the old image serving, then rolls web and cron to the new
// image and brings cron back.
func TestUpgradeOnImageChange(t *testing.T) {
	ns := framework.Namespace(t, "e2e-upgrade")
	c := framework.NewClients(t)
	db := upgradeInstance(t, ns, "", true)

	rec := startRecorder(t, c, ns, "shop")
	setImage(t, ns, "shop", toImage)
	st := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(toImage))
	waitTier(t, ns, "shop", toImage)
	waitTier(t, ns, "shop-cron", toImage)
	samples := rec.stop()
	rec.logSummary(t, samples)

	// The invariants, over every sample.
	v := &violations{t: t}
	during := 0
	for _, s := range samples {
		v.check(s.before.n == 0 || s.before.restorePointDone, "the upgrade Job exists before its restore point completed", s)
		v.check(s.web.image != toImage || s.after.succeeded, "web carries the new image before the upgrade Job succeeded", s)
		v.check(s.cron.image != toImage || s.after.succeeded, "cron carries the new image before the upgrade Job succeeded", s)
		v.check(s.cron.image != toImage || s.cron.replicas == 0 || s.web.image == toImage, "cron runs the new image before web does", s)
		v.check(s.web.available >= 1, "no web replica available", s)
		if !s.duringUpgradeJob() {
			continue
		}
		during++
		v.check(s.cron.replicas == 0 && s.cron.statusReplicas == 0 && s.cronPods == 0, "cron is not at 0 while the upgrade Job runs", s)
		v.check(s.web.image == fromImage && s.cron.image == fromImage, "web or cron left the old image while the upgrade Job runs", s)
		v.check(s.phase == odoov1alpha2.PhaseUpgrading, "the instance's phase is not Upgrading while the upgrade Job runs", s)
	}
	v.report(len(samples))
	if during == 0 {
		t.Fatalf("no sample was taken while the upgrade Job ran (%d samples): the invariants above are vacuous", len(samples))
	}

	// One restore point, an OdooBackupJob named in status.upgrade that
	// reached Completed with its one Job, and one upgrade Job: `odoo -u all`
	// with the new image.
	checkRestorePoint(t, c, ns, "shop", st)
	jobs := instanceJobs(t, c, ns, "shop", "upgrade")
	if len(jobs) != 1 {
		t.Fatalf("upgrade Jobs %v, want one", jobNames(jobs))
	}
	job := jobs[0]
	if job.Name != st.JobName {
		t.Errorf("upgrade Job %s, status.upgrade.jobName %s", job.Name, st.JobName)
	}
	if _, ok := jobFinished(&job); !ok {
		t.Errorf("upgrade Job %s did not complete: %+v", job.Name, job.Status.Conditions)
	}
	ctr := job.Spec.Template.Spec.Containers[0]
	if ctr.Image != toImage {
		t.Errorf("upgrade Job image %s, want %s", ctr.Image, toImage)
	}
	args := " " + strings.Join(append(append([]string{}, ctr.Command...), ctr.Args...), " ") + " "
	for _, want := range []string{" odoo ", " -u all ", " --stop-after-init ", " --no-http ", " -d " + db + " "} {
		if !strings.Contains(args, want) {
			t.Errorf("upgrade Job command %q lacks %q", args, want)
		}
	}
	if got := ptr.Deref(job.Spec.ActiveDeadlineSeconds, 0); got != 1800 {
		t.Errorf("upgrade Job activeDeadlineSeconds = %d, want 1800 (autoUpgrade.timeout's default)", got)
	}

	// status.upgrade, status.deployment, the condition and the events.
	if st.Trigger != "Image" || st.FromImage != fromImage || st.ImageCurrent != toImage ||
		st.StartTime == nil || st.CompletionTime == nil || st.Duration == "" || st.RestorePointBackup == "" {
		t.Errorf("status.upgrade = %+v", *st)
	}
	framework.Eventually(t, wait, "status.deployment images", func() error {
		got := jsonpath(t, ns, "odoo/shop", "{.status.deployment.currentImage} {.status.deployment.previousImage} {.status.deployment.cronImage}")
		if want := toImage + " " + fromImage + " " + toImage; got != want {
			return fmt.Errorf("current previous cron = %q, want %q", got, want)
		}
		return nil
	})
	if got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="UpgradeSucceeded")].status}`); got != "True" {
		t.Errorf("UpgradeSucceeded condition = %q", got)
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=1m")
	waitEvents(t, ns, "shop", odoov1alpha2.EventUpgradeStarted, odoov1alpha2.EventUpgradeSucceeded, odoov1alpha2.EventDeploymentUpdated)
}

// TestBrokenUpgradeKeepsOldImage: the upgrade Job of a -broken image exits
// 255; web serves the old image throughout, cron comes back on it, and the
// failure names Odoo's error line. The image is not retried.
func TestBrokenUpgradeKeepsOldImage(t *testing.T) {
	ns := framework.Namespace(t, "e2e-upgrade-broken")
	c := framework.NewClients(t)
	upgradeInstance(t, ns, "", true)

	rec := startRecorder(t, c, ns, "shop")
	setImage(t, ns, "shop", brokenImage)
	st := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeFailed, attempted(brokenImage))
	waitTier(t, ns, "shop-cron", fromImage)

	for _, want := range []string{"Couldn't load module web", "exited with code 255", fromImage + " keeps serving"} {
		if !strings.Contains(st.Message, want) {
			t.Errorf("status.upgrade.message lacks %q: %s", want, st.Message)
		}
	}
	if !st.Failed || st.ImageCurrent != fromImage {
		t.Errorf("status.upgrade = %+v", *st)
	}
	jobs := instanceJobs(t, c, ns, "shop", "upgrade")
	if len(jobs) != 1 {
		t.Fatalf("upgrade Jobs %v, want one", jobNames(jobs))
	}
	if finished, ok := jobFinished(&jobs[0]); !finished || ok {
		t.Errorf("upgrade Job %s did not fail: %+v", jobs[0].Name, jobs[0].Status.Conditions)
	}
	if code := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "job-name="+jobs[0].Name,
		"-o", "jsonpath={.items[*].status.containerStatuses[0].state.terminated.exitCode}"); code != "255" {
		t.Errorf("upgrade pod exit codes %q, want 255", code)
	}
	degraded := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Degraded")].status} {.status.conditions[?(@.type=="Degraded")].reason}`)
	if degraded != "True UpgradeFailed" {
		t.Errorf("Degraded condition status reason = %q", degraded)
	}
	if msg := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Degraded")].message}`); !strings.Contains(msg, odoov1alpha2.AnnotationUpgradeNow) {
		t.Errorf("Degraded message does not say how to retry (%s): %s", odoov1alpha2.AnnotationUpgradeNow, msg)
	}
	if types := waitEvents(t, ns, "shop", odoov1alpha2.EventUpgradeStarted, odoov1alpha2.EventUpgradeFailed); types[odoov1alpha2.EventUpgradeFailed] != "Warning" {
		t.Errorf("UpgradeFailed event of type %q, want Warning", types[odoov1alpha2.EventUpgradeFailed])
	}

	// Not retried: no second Job within 10 s, web and cron stay.
	time.Sleep(10 * time.Second)
	if jobs := instanceJobs(t, c, ns, "shop", "upgrade"); len(jobs) != 1 {
		t.Errorf("upgrade Jobs %v after 10 s, want the one that failed", jobNames(jobs))
	}
	samples := rec.stop()
	rec.logSummary(t, samples)
	waitTier(t, ns, "shop", fromImage)
	waitTier(t, ns, "shop-cron", fromImage)

	v := &violations{t: t}
	during := 0
	for _, s := range samples {
		v.check(s.web.image != brokenImage && s.cron.image != brokenImage, "a Deployment carries the broken image", s)
		v.check(s.web.image == fromImage, "web left the old image", s)
		v.check(s.web.available >= 1, "no web replica available", s)
		v.check(s.before.n <= 1 && s.after.n <= 1, "more than one upgrade Job", s)
		if s.duringUpgradeJob() {
			during++
			v.check(s.cron.replicas == 0 && s.cronPods == 0, "cron is not at 0 while the upgrade Job runs", s)
		}
	}
	v.report(len(samples))
	if during == 0 {
		t.Fatalf("no sample was taken while the upgrade Job ran (%d samples)", len(samples))
	}
}

// TestUpgradeNowAnnotation: with autoUpgrade disabled an image change rolls
// out at once without an upgrade; each new value of bemade.org/upgrade-now
// runs exactly one upgrade.
func TestUpgradeNowAnnotation(t *testing.T) {
	ns := framework.Namespace(t, "e2e-upgrade-now")
	c := framework.NewClients(t)
	upgradeInstance(t, ns, "  autoUpgrade:\n    enabled: false\n", true)

	setImage(t, ns, "shop", toImage)
	waitTier(t, ns, "shop", toImage)
	waitTier(t, ns, "shop-cron", toImage)
	for _, kind := range []string{"upgrade", "backup"} {
		if jobs := instanceJobs(t, c, ns, "shop", kind); len(jobs) != 0 {
			t.Errorf("%s Jobs %v with autoUpgrade disabled", kind, jobNames(jobs))
		}
	}
	if st := getInstance(t, c, ns, "shop").Status.Upgrade; st != nil {
		t.Errorf("status.upgrade = %+v with autoUpgrade disabled", *st)
	}

	annotate := func(value string) {
		framework.Kubectl(t, "annotate", "-n", ns, odooRef("shop"), "--overwrite", odoov1alpha2.AnnotationUpgradeNow+"="+value)
	}
	byRequest := func(value string) func(*odoov1alpha2.UpgradeStatus) bool {
		return func(st *odoov1alpha2.UpgradeStatus) bool { return st.Request == value }
	}
	annotate("first")
	first := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, byRequest("first"))
	if first.Trigger != "Annotation" || first.ImageAttempted != toImage {
		t.Errorf("status.upgrade = %+v", *first)
	}
	jobs := instanceJobs(t, c, ns, "shop", "upgrade")
	if len(jobs) != 1 || jobs[0].Spec.Template.Spec.Containers[0].Image != toImage {
		t.Fatalf("upgrade Jobs %v, want one with %s", jobNames(jobs), toImage)
	}
	waitTier(t, ns, "shop-cron", toImage)

	// The same value again (rewritten, then removed and set back, with a
	// label change for a reconcile in between) runs nothing.
	annotate("first")
	framework.Kubectl(t, "annotate", "-n", ns, odooRef("shop"), odoov1alpha2.AnnotationUpgradeNow+"-")
	framework.Kubectl(t, "label", "-n", ns, odooRef("shop"), "touch=1")
	time.Sleep(2 * time.Second)
	annotate("first")
	time.Sleep(8 * time.Second)
	if jobs := instanceJobs(t, c, ns, "shop", "upgrade"); len(jobs) != 1 {
		t.Errorf("upgrade Jobs %v after the same value again, want one", jobNames(jobs))
	}
	if st := getInstance(t, c, ns, "shop").Status.Upgrade; !st.StartTime.Equal(first.StartTime) || st.Phase != odoov1alpha2.UpgradeSuccess {
		t.Errorf("status.upgrade changed after the same value again: %+v", *st)
	}

	// A new value runs one more.
	annotate("second")
	second := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, byRequest("second"))
	if second.JobName == first.JobName {
		t.Errorf("the second upgrade reused Job %s", first.JobName)
	}
	time.Sleep(3 * time.Second)
	if jobs := instanceJobs(t, c, ns, "shop", "upgrade"); len(jobs) != 2 {
		t.Errorf("upgrade Jobs %v after a new value, want two", jobNames(jobs))
	}
	if jobs := instanceJobs(t, c, ns, "shop", "backup"); len(jobs) != 2 {
		t.Errorf("restore point backup Jobs %v, want two", jobNames(jobs))
	}
	if got := restorePointBackups(t, ns, "shop"); len(got) != 2 || second.RestorePointBackup == first.RestorePointBackup {
		t.Errorf("restore point OdooBackupJobs %v, want two, one per upgrade (%s, %s)", got, first.RestorePointBackup, second.RestorePointBackup)
	}
	waitTier(t, ns, "shop", toImage)
	waitTier(t, ns, "shop-cron", toImage)
}

// TestUpgradeWithoutModuleTable: a database without Odoo's ir_module_module
// fails the upgrade at its snapshot, before any Job, and the old image stays.
func TestUpgradeWithoutModuleTable(t *testing.T) {
	ns := framework.Namespace(t, "e2e-upgrade-notable")
	c := framework.NewClients(t)
	upgradeInstance(t, ns, "", false)
	setImage(t, ns, "shop", toImage)
	st := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeFailed, attempted(toImage))
	for _, want := range []string{"no ir_module_module table", "the database was not touched"} {
		if !strings.Contains(st.Message, want) {
			t.Errorf("status.upgrade.message lacks %q: %s", want, st.Message)
		}
	}
	for _, kind := range []string{"upgrade", "backup"} {
		if jobs := instanceJobs(t, c, ns, "shop", kind); len(jobs) != 0 {
			t.Errorf("%s Jobs %v for a database that was not touched", kind, jobNames(jobs))
		}
	}
	if got := restorePointBackups(t, ns, "shop"); len(got) != 0 {
		t.Errorf("restore point OdooBackupJobs %v for an upgrade that failed at its snapshot", got)
	}
	waitTier(t, ns, "shop", fromImage)
	waitTier(t, ns, "shop-cron", fromImage)
}

// killPoint is where TestUpgradeSurvivesOperatorKill kills the operator: as
// soon as status.upgrade.step is step and, when job is set, a Job of that
// kind (bemade.org/job) exists too (the operator died with its Job running;
// "backup" is the Job of the restore point OdooBackupJob), or, with
// restorePoint, the restore point OdooBackupJob exists (its Job may not yet).
type killPoint struct {
	step         odoov1alpha2.UpgradeStep
	job          string
	restorePoint bool
}

func (k killPoint) String() string {
	switch {
	case k.restorePoint:
		return string(k.step) + "+odoobackupjob"
	case k.job == "":
		return string(k.step)
	}
	return string(k.step) + "+" + k.job + "-job"
}

// odooBackupJobs is the OdooBackupJob resource.
var odooBackupJobs = schema.GroupVersionResource{Group: "bemade.org", Version: "v1alpha2", Resource: "odoobackupjobs"}

func (k killPoint) instance() string {
	return "kill-" + strings.ReplaceAll(strings.ToLower(k.String()), "+", "-")
}

// TestUpgradeSurvivesOperatorKill: the operator is killed (SIGKILL) as soon
// as an upgrade reaches each step (and, for the steps that run a Job, once
// more when that Job exists), then restarted; the upgrade finishes with one
// restore point OdooBackupJob (Completed, one Job), one upgrade Job and the
// new image everywhere.
func TestUpgradeSurvivesOperatorKill(t *testing.T) {
	points := []killPoint{
		{step: odoov1alpha2.UpgradeStepSnapshot},
		{step: odoov1alpha2.UpgradeStepStopCron},
		{step: odoov1alpha2.UpgradeStepRestorePoint},
		{step: odoov1alpha2.UpgradeStepRestorePoint, restorePoint: true},
		{step: odoov1alpha2.UpgradeStepRestorePoint, job: "backup"},
		{step: odoov1alpha2.UpgradeStepUpgrade},
		{step: odoov1alpha2.UpgradeStepUpgrade, job: "upgrade"},
		{step: odoov1alpha2.UpgradeStepVerify},
		{step: odoov1alpha2.UpgradeStepRollout},
	}
	ns := framework.Namespace(t, "e2e-upgrade-kill")
	c := framework.NewClients(t)
	var manifests strings.Builder
	for _, p := range points {
		manifests.WriteString("---\n" + instanceManifest(p.instance()))
	}
	framework.Apply(t, ns, manifests.String())
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org", "--all", "--timeout=3m")
	for _, p := range points {
		framework.ModuleFixture(t, jsonpath(t, ns, "odoo/"+p.instance(), "{.status.database.name}"))
	}

	// The operator runs again when the test ends, whatever happened (and
	// before the namespace, whose instances carry a finalizer, is deleted).
	killed := false
	t.Cleanup(func() {
		if killed {
			framework.RestartOperator(t)
		}
	})
	landed := map[killPoint]string{}
	for _, p := range points {
		t.Run(p.String(), func(t *testing.T) {
			landed[p] = killAt(t, c, ns, p, &killed)
		})
		if killed {
			t.Fatalf("the operator could not be restarted after the kill at %s; the remaining points are not tried", p)
		}
	}
	var summary []string
	for _, p := range points {
		summary = append(summary, fmt.Sprintf("%s → %s", p, landed[p]))
	}
	t.Logf("operator kills (target → step stored when the operator died): %s", strings.Join(summary, ", "))
}

// killAt changes the image of the kill point's instance, SIGKILLs the
// operator as soon as the point is reached (seen by a watch or a 5 ms
// poller, whichever first), restarts it and checks the upgrade's end state.
// It returns the step stored when the operator died.
func killAt(t *testing.T, c *framework.Clients, ns string, p killPoint, killed *bool) string {
	t.Helper()
	name := p.instance()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pid := framework.OperatorPID(t)
	atStep := func(inst *odoov1alpha2.OdooInstance) bool {
		st := inst.Status.Upgrade
		return st != nil && st.ImageAttempted == toImage && st.Step == p.step
	}
	restorePoints := metav1.ListOptions{LabelSelector: "bemade.org/upgrade-restore-point=true," + instanceLabel + "=" + name}
	jobExists := func() bool {
		if p.restorePoint {
			backups, err := c.Dynamic.Resource(odooBackupJobs).Namespace(ns).List(ctx, restorePoints)
			return err == nil && len(backups.Items) > 0
		}
		if p.job == "" {
			return true
		}
		jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=" + p.job + "," + instanceLabel + "=" + name})
		return err == nil && len(jobs.Items) > 0
	}
	type hit struct {
		at  time.Time
		by  string
		err error
	}
	hits := make(chan hit, 1)
	var once sync.Once
	kill := func(by string) {
		once.Do(func() {
			err := syscall.Kill(pid, syscall.SIGKILL)
			hits <- hit{at: time.Now(), by: by, err: err}
		})
	}

	// A watch of the instance, or of the point's OdooBackupJob or Jobs.
	var w watch.Interface
	var err error
	switch {
	case p.restorePoint:
		w, err = c.Dynamic.Resource(odooBackupJobs).Namespace(ns).Watch(ctx, restorePoints)
	case p.job == "":
		w, err = c.Dynamic.Resource(framework.OdooInstances).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	default:
		w, err = c.Kube.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=" + p.job + "," + instanceLabel + "=" + name})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	go func() {
		for ev := range w.ResultChan() {
			inst := &odoov1alpha2.OdooInstance{}
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && !p.restorePoint {
				if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, inst) != nil {
					continue
				}
			} else if ev.Type != watch.Added || c.GetInstance(ctx, ns, name, inst) != nil {
				continue
			}
			if atStep(inst) {
				kill("watch")
				return
			}
		}
	}()
	go func() {
		for ctx.Err() == nil {
			inst := &odoov1alpha2.OdooInstance{}
			if c.GetInstance(ctx, ns, name, inst) == nil && atStep(inst) && jobExists() {
				kill("5 ms poll")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	changed := time.Now()
	setImage(t, ns, name, toImage)
	var h hit
	select {
	case h = <-hits:
	case <-ctx.Done():
		t.Fatalf("kill point %s was never reached", p)
	}
	if h.err != nil {
		t.Fatalf("kill %d: %v", pid, h.err)
	}
	*killed = true
	cancel()
	framework.Eventually(t, 10*time.Second, "operator gone", func() error {
		if !framework.ProcessGone(pid) {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	})
	stored := getInstance(t, c, ns, name).Status.Upgrade
	if stored == nil {
		t.Fatal("no status.upgrade after the kill")
	}
	jobsAtKill := "no Job yet"
	var present []string
	for _, kind := range []string{"backup", "upgrade"} {
		jobs := instanceJobs(t, c, ns, name, kind)
		for i := range jobs {
			j := &jobs[i]
			state := "running"
			switch finished, ok := jobFinished(j); {
			case ok:
				state = "complete"
			case finished:
				state = "failed"
			}
			present = append(present, kind+" Job "+state)
		}
	}
	if len(present) > 0 {
		jobsAtKill = strings.Join(present, ", ")
	}
	t.Logf("%s seen by the %s %v after the image change; operator killed; stored step %s (phase %s); Jobs right after the kill: %s",
		p, h.by, h.at.Sub(changed).Round(time.Millisecond), stored.Step, stored.Phase, jobsAtKill)

	framework.RestartOperator(t)
	*killed = false

	st := waitUpgrade(t, c, ns, name, odoov1alpha2.UpgradeSuccess, attempted(toImage))
	if st.StartTime == nil || !st.StartTime.Equal(stored.StartTime) {
		t.Errorf("the upgrade started again after the restart: start %v, before the kill %v", st.StartTime, stored.StartTime)
	}
	if jobs := instanceJobs(t, c, ns, name, "upgrade"); len(jobs) != 1 {
		t.Errorf("upgrade Jobs %v, want exactly one", jobNames(jobs))
	}
	checkRestorePoint(t, c, ns, name, st)
	waitTier(t, ns, name, toImage)
	waitTier(t, ns, name+"-cron", toImage)
	if got := jsonpath(t, ns, "odoo/"+name, "{.status.deployment.currentImage}"); got != toImage {
		t.Errorf("status.deployment.currentImage = %q", got)
	}
	return string(stored.Step)
}

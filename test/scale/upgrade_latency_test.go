//go:build scale

package scale

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

var upgrades = flag.Int("upgrades", 20, "number of upgrades TestUpgradeLatency runs")

// TestUpgradeLatency runs guarded upgrades one after the other on one
// instance of the running sandbox and reports, over the runs, the median and
// p99 of
//
//	(1) spec.image changed → upgrade Job created
//	(2) upgrade Job completed → web Deployment template on the new image
//	    (the rollout starting)
//
// and the time spent in each step. Object timestamps (creationTimestamp,
// completionTime) have a resolution of one second, so every instant is the
// arrival of the watch event that shows it, on one clock.
//
//	eval "$(hack/sandbox.sh env)"; go test -count=1 -tags scale -run TestUpgradeLatency -v ./test/scale/
func TestUpgradeLatency(t *testing.T) {
	n := *upgrades
	ns := framework.Namespace(t, "scale-upgrade-latency")
	c := framework.NewClients(t)
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: shop
spec:
  image: odoo-sim:18.0
  adminPassword: master-shop
  replicas: 1
  workers: 2
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	db := framework.Kubectl(t, "get", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "-o", "jsonpath={.status.database.name}")
	framework.ModuleFixture(t, db)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tl := &timeline{first: map[string]time.Time{}}
	tl.watch(ctx, t, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.FieldSelector = "metadata.name=shop"
		return c.Dynamic.Resource(framework.OdooInstances).Namespace(ns).Watch(ctx, opts)
	}, tl.instance)
	tl.watch(ctx, t, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.LabelSelector = "bemade.org/job=upgrade,bemade.org/instance=shop"
		return c.Kube.BatchV1().Jobs(ns).Watch(ctx, opts)
	}, tl.job)
	tl.watch(ctx, t, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.FieldSelector = "metadata.name=shop"
		return c.Kube.AppsV1().Deployments(ns).Watch(ctx, opts)
	}, tl.web)

	var toJob, toRollout, stepToJob []time.Duration
	stepTimes := map[odoov1alpha2.UpgradeStep][]time.Duration{}
	steps := []odoov1alpha2.UpgradeStep{
		odoov1alpha2.UpgradeStepSnapshot, odoov1alpha2.UpgradeStepStopCron, odoov1alpha2.UpgradeStepRestorePoint,
		odoov1alpha2.UpgradeStepUpgrade, odoov1alpha2.UpgradeStepVerify, odoov1alpha2.UpgradeStepRollout, odoov1alpha2.UpgradeStepDone,
	}
	for i := 1; i <= n; i++ {
		image := fmt.Sprintf("odoo-sim:18.%d", i)
		framework.Kubectl(t, "patch", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "--type=merge", "-p", fmt.Sprintf(`{"spec":{"image":%q}}`, image))
		framework.Eventually(t, 2*time.Minute, "upgrade to "+image, func() error {
			inst := &odoov1alpha2.OdooInstance{}
			if err := c.GetInstance(ctx, ns, "shop", inst); err != nil {
				return err
			}
			st := inst.Status.Upgrade
			switch {
			case st == nil || st.ImageAttempted != image:
				return fmt.Errorf("upgrade to %s not started", image)
			case st.Phase != odoov1alpha2.UpgradeSuccess || st.Step != odoov1alpha2.UpgradeStepDone:
				return fmt.Errorf("phase %s step %s: %s", st.Phase, st.Step, st.Message)
			case inst.Status.Deployment.CronImage != image || inst.Status.Deployment.CurrentImage != image:
				return fmt.Errorf("status.deployment %+v", inst.Status.Deployment)
			}
			for _, cond := range inst.Status.Conditions {
				if cond.Type == odoov1alpha2.ConditionReady && cond.Status != metav1.ConditionTrue {
					return fmt.Errorf("not Ready: %s", cond.Message)
				}
			}
			return nil
		})
		// The watch events of the end of the run may still be on their way.
		var changed, created, completed, rolled time.Time
		framework.Eventually(t, 10*time.Second, "watch events of "+image, func() error {
			var missing []string
			for key, at := range map[string]*time.Time{
				"spec " + image: &changed, "job created " + image: &created,
				"job completed " + image: &completed, "web " + image: &rolled,
			} {
				var ok bool
				if *at, ok = tl.at(key); !ok {
					missing = append(missing, key)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("not seen: %v", missing)
			}
			return nil
		})
		toJob = append(toJob, created.Sub(changed))
		toRollout = append(toRollout, rolled.Sub(completed))
		if at, ok := tl.at("step " + image + " " + string(odoov1alpha2.UpgradeStepUpgrade)); ok {
			stepToJob = append(stepToJob, created.Sub(at))
		}
		prev := changed
		for _, step := range steps {
			at, ok := tl.at("step " + image + " " + string(step))
			if !ok {
				t.Errorf("%s: step %s not seen", image, step)
				continue
			}
			stepTimes[step] = append(stepTimes[step], at.Sub(prev))
			prev = at
		}
		t.Logf("%2d %-10s image change → Job created %v; Job completed → web rollout %v", i, image,
			created.Sub(changed).Round(time.Millisecond), rolled.Sub(completed).Round(time.Millisecond))
	}
	cancel()

	t.Logf("upgrades: %d, one at a time, on one instance (1 web, 1 cron replica)", n)
	t.Logf("(1) image change → upgrade Job created:       %s", stats(toJob))
	t.Logf("(2) upgrade Job completed → web rollout start: %s", stats(toRollout))
	t.Logf("    of which step Upgrade stored → Job created:  %s", stats(stepToJob))
	t.Logf("time in each step (the restore point and upgrade Jobs run ~1 s on KWOK):")
	prev := "image change"
	for _, step := range steps {
		t.Logf("    %-13s → step %-12s %s", prev, step, stats(stepTimes[step]))
		prev = "step " + string(step)
	}
}

// timeline keeps when each watched fact was first seen.
type timeline struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (tl *timeline) saw(key string, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if _, ok := tl.first[key]; !ok {
		tl.first[key] = at
	}
}

func (tl *timeline) at(key string) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	at, ok := tl.first[key]
	return at, ok
}

// watch follows a watch until ctx ends, starting it again from the last
// resourceVersion seen when the API server closes it.
func (tl *timeline) watch(ctx context.Context, t *testing.T, open func(context.Context, metav1.ListOptions) (watch.Interface, error),
	handle func(runtime.Object, time.Time)) {
	t.Helper()
	w, err := open(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		rv := ""
		for {
			for ev := range w.ResultChan() {
				now := time.Now()
				if ev.Type == watch.Error {
					rv = ""
					continue
				}
				if m, err := metaOf(ev.Object); err == nil {
					rv = m
				}
				handle(ev.Object, now)
			}
			if ctx.Err() != nil {
				return
			}
			for {
				if w, err = open(ctx, metav1.ListOptions{ResourceVersion: rv}); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if ctx.Err() != nil {
				return
			}
		}
	}()
}

func metaOf(obj runtime.Object) (string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("%T has no metadata", obj)
	}
	return m.GetResourceVersion(), nil
}

func (tl *timeline) instance(obj runtime.Object, at time.Time) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	inst := &odoov1alpha2.OdooInstance{}
	if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, inst) != nil {
		return
	}
	tl.saw("spec "+inst.Spec.Image, at)
	if st := inst.Status.Upgrade; st != nil {
		tl.saw("step "+st.ImageAttempted+" "+string(st.Step), at)
	}
}

func (tl *timeline) job(obj runtime.Object, at time.Time) {
	j, ok := obj.(*batchv1.Job)
	if !ok || len(j.Spec.Template.Spec.Containers) == 0 {
		return
	}
	image := j.Spec.Template.Spec.Containers[0].Image
	tl.saw("job created "+image, at)
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			tl.saw("job completed "+image, at)
		}
	}
}

func (tl *timeline) web(obj runtime.Object, at time.Time) {
	if d, ok := obj.(*appsv1.Deployment); ok && len(d.Spec.Template.Spec.Containers) > 0 {
		tl.saw("web "+d.Spec.Template.Spec.Containers[0].Image, at)
	}
}

// stats formats min, median, p99 (nearest rank) and max.
func stats(d []time.Duration) string {
	if len(d) == 0 {
		return "no sample"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	p99 := s[int(math.Ceil(0.99*float64(len(s))))-1]
	r := func(x time.Duration) string { return x.Round(time.Millisecond).String() }
	return strings.Join([]string{"median " + r(median), "p99 " + r(p99), "min " + r(s[0]), "max " + r(s[len(s)-1]), fmt.Sprintf("n=%d", len(s))}, ", ")
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Annotations the player writes on Odoo pods, for tests and users.
const (
	// AnnHTTPPort is the 127.0.0.1 port a web pod's Odoo serves HTTP on.
	annHTTPPort   = annPrefix + "http-port"
	annGeventPort = annPrefix + "gevent-port"
	// annPID is the host process id of the container's current run.
	annPID = annPrefix + "pid"
)

// errImage marks an image tag the sandbox does not have.
var errImage = errors.New("image not found in the sandbox")

// reconcileOdoo runs a pod of the `odoo` image repository as a host process
// (see planOdoo) and reports on the pod what a kubelet would: Running,
// Ready once GET /web/health answers (web pods) or at once (others), the
// real exit code and termination message of a Job's pod, restarts with
// CrashLoopBackOff of a crashing web or cron process, ErrImagePull for an
// unknown tag. Deleting the pod stops the process (SIGTERM, then SIGKILL
// after 10 s), then removes the pod, as a kubelet does.
func (p *player) reconcileOdoo(ctx context.Context, pod *corev1.Pod) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(pod)
	if !pod.DeletionTimestamp.IsZero() {
		if p.isRunning(key, pod.UID) {
			p.stop(key, pod.UID) // the run removes the pod once its process exited
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, p.removePod(ctx, key, pod.UID)
	}
	if p.busy(key, pod.UID) || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return ctrl.Result{}, nil
	}
	if pod.Spec.NodeName == "" {
		return ctrl.Result{}, nil // not scheduled yet
	}
	logger := log.FromContext(ctx)
	st := containerState{}
	if cur := firstStatus(pod); cur != nil {
		st.restartCount, st.last = cur.RestartCount, cur.LastTerminationState.Terminated
	}
	if pod.Annotations[annStarted] != "" {
		// A previous player claimed the pod and did not finish its run.
		lost := &corev1.ContainerStateTerminated{ExitCode: lostRunExitCode, Reason: "Error",
			Message: "sandbox job player: the player stopped during the run", FinishedAt: metav1.Now()}
		if pod.Spec.RestartPolicy != corev1.RestartPolicyAlways {
			logger.Info("a previous player did not finish this pod's run; failing it", "exitCode", lostRunExitCode)
			p.markDone(pod.UID)
			return ctrl.Result{}, p.writeStatus(ctx, key, pod.UID, containerState{restartCount: st.restartCount, terminated: lost})
		}
		// A kubelet restarts a container that died with its node.
		st.restartCount, st.last = st.restartCount+1, lost
	}
	ports := odooPorts{}
	var err error
	if wantsHTTP(pod) {
		want, _ := strconv.Atoi(pod.Annotations[annHTTPPort])
		if ports.http, err = p.ports.take(pod.UID, want); err == nil && wantsGevent(pod) {
			want, _ = strconv.Atoi(pod.Annotations[annGeventPort])
			ports.gevent, err = p.ports.take(pod.UID, want)
		}
		if err != nil {
			p.ports.release(pod.UID)
			return ctrl.Result{}, err
		}
	}
	pl, err := p.planner.planOdoo(ctx, pod, p.images, ports)
	if err != nil {
		p.ports.release(pod.UID)
	}
	switch {
	case errors.Is(err, errImage):
		return p.imagePullBackOff(ctx, pod, err.Error())
	case errors.Is(err, errNotReady):
		logger.Info("waiting", "reason", err.Error())
		st.waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		return ctrl.Result{RequeueAfter: 2 * time.Second}, p.writeStatusOnce(ctx, pod, st)
	case errors.Is(err, errUnsupported):
		logger.Info("cannot run the pod", "reason", err.Error())
		if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
			st.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		} else {
			st.terminated = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "ContainerCannotRun", Message: err.Error(), FinishedAt: metav1.Now()}
		}
		return ctrl.Result{}, p.writeStatus(ctx, key, pod.UID, st)
	case err != nil:
		return ctrl.Result{}, err
	}
	// Claim the pod (optimistic lock: never twice), recording its ports.
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[annStarted] = time.Now().UTC().Format(time.RFC3339Nano)
	if ports.http != 0 {
		pod.Annotations[annHTTPPort] = strconv.Itoa(ports.http)
	}
	if ports.gevent != 0 {
		pod.Annotations[annGeventPort] = strconv.Itoa(ports.gevent)
	}
	if err := p.Patch(ctx, pod, patch); err != nil {
		p.ports.release(pod.UID)
		_ = os.RemoveAll(pl.dir)
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		return ctrl.Result{}, err
	}
	base := filepath.Join(p.logsDir, key.Namespace+"_"+key.Name)
	output, previous := base+".log", base+".previous.log"
	for _, f := range []string{output, previous} {
		if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
			_ = os.WriteFile(f, nil, 0o600)
		}
	}
	if err := p.serveLogs(ctx, pod, output, previous); err != nil {
		logger.Error(err, "creating the kwok Logs object; kubectl logs will show kwok's default lines")
	}
	p.supervise(pod.DeepCopy(), pl, ports, st, output, previous)
	return ctrl.Result{}, nil
}

func firstStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	if len(pod.Spec.Containers) == 0 {
		return nil
	}
	for i, s := range pod.Status.ContainerStatuses {
		if s.Name == pod.Spec.Containers[0].Name {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// imagePullBackOff shows an unknown tag the way a kubelet does: the pod
// stays Pending, ErrImagePull first, then ImagePullBackOff, retried.
func (p *player) imagePullBackOff(ctx context.Context, pod *corev1.Pod, msg string) (ctrl.Result, error) {
	reason := "ErrImagePull"
	if cur := firstStatus(pod); cur != nil && cur.State.Waiting != nil &&
		(cur.State.Waiting.Reason == "ErrImagePull" || cur.State.Waiting.Reason == "ImagePullBackOff") {
		reason = "ImagePullBackOff"
	}
	st := containerState{waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	if cur := firstStatus(pod); cur != nil {
		st.restartCount, st.last = cur.RestartCount, cur.LastTerminationState.Terminated
	}
	return ctrl.Result{RequeueAfter: 10 * time.Second}, p.writeStatusOnce(ctx, pod, st)
}

// writeStatusOnce writes st unless the pod already shows that waiting
// reason (a requeue every few seconds need not rewrite the pod).
func (p *player) writeStatusOnce(ctx context.Context, pod *corev1.Pod, st containerState) error {
	if cur := firstStatus(pod); cur != nil && cur.State.Waiting != nil && st.waiting != nil &&
		cur.State.Waiting.Reason == st.waiting.Reason && cur.State.Waiting.Message == st.waiting.Message {
		return nil
	}
	return p.writeStatus(ctx, client.ObjectKeyFromObject(pod), pod.UID, st)
}

// writeStatus writes the pod's status for st, if the pod is still uid.
func (p *player) writeStatus(ctx context.Context, key types.NamespacedName, uid types.UID, st containerState) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := &corev1.Pod{}
		if err := p.planner.api.Get(ctx, key, pod); err != nil {
			return client.IgnoreNotFound(err)
		}
		if pod.UID != uid {
			return nil
		}
		pod.Status = podStatus(pod, st, metav1.Now())
		return client.IgnoreNotFound(p.Status().Update(ctx, pod))
	})
}

// removePod deletes a terminating pod for good, as a kubelet does once its
// containers stopped.
func (p *player) removePod(ctx context.Context, key types.NamespacedName, uid types.UID) error {
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = key.Namespace, key.Name
	err := p.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func (p *player) isRunning(key types.NamespacedName, uid types.UID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.running[key]
	return ok && r.uid == uid
}

func (p *player) markDone(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[uid] = true
}

// stateBox serialises the status writes of one run (its loop and its
// readiness prober).
type stateBox struct {
	mu sync.Mutex
	st containerState
}

// supervise runs the pod's process until it ends for good (a Job's pod),
// or is stopped (the pod is deleted, the player stops), restarting it
// with a kubelet's back-off when the pod restarts (restartPolicy Always,
// or OnFailure after a failure).
func (p *player) supervise(pod *corev1.Pod, pl *plan, ports odooPorts, st containerState, output, previous string) {
	key := client.ObjectKeyFromObject(pod)
	ctx, cancel := context.WithCancel(p.base)
	p.mu.Lock()
	p.running[key] = run{uid: pod.UID, cancel: cancel}
	p.mu.Unlock()
	logger := ctrl.Log.WithName("odoo").WithValues("pod", key.String())
	// The arguments hold no credential (those are in the pod's odoo.conf);
	// of the environment only the names are logged.
	logger.Info("running", "binary", pl.binary, "args", strings.Join(pl.args, " "), "env", pl.envNames, "output", output, "httpPort", ports.http)
	box := &stateBox{st: st}
	update := func(change func(*containerState)) {
		box.mu.Lock()
		defer box.mu.Unlock()
		change(&box.st)
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(p.base), time.Minute)
		defer rcancel()
		if err := p.writeStatus(rctx, key, pod.UID, box.st); err != nil {
			logger.Error(err, "writing the pod status")
		}
	}
	go func() {
		// stopped: the run was cancelled (the pod is being deleted, or the
		// player stops), not ended by its process.
		stopped := false
		defer func() {
			cancel()
			p.ports.release(pod.UID)
			_ = os.RemoveAll(pl.dir)
			p.mu.Lock()
			delete(p.running, key)
			p.done[pod.UID] = true
			p.mu.Unlock()
			if stopped && p.base.Err() == nil {
				// Stopped because the pod is being deleted: remove it.
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(p.base), time.Minute)
				defer rcancel()
				if err := p.removePod(rctx, key, pod.UID); err != nil {
					logger.Error(err, "removing the pod")
				}
			}
		}()
		web := ports.http != 0
		for first := true; ; first = false {
			if !first {
				_ = os.Rename(output, previous)
			}
			startedAt := metav1.Now()
			update(func(s *containerState) {
				s.waiting, s.terminated, s.running, s.ready = nil, nil, &startedAt, !web
			})
			probeCtx, stopProbe := context.WithCancel(ctx)
			if web {
				go p.probe(probeCtx, fmt.Sprintf("http://127.0.0.1:%d%s", ports.http, probePath(pod)), update)
			}
			res := execute(ctx, pl, output, func(pid int) { p.annotatePID(ctx, key, pod.UID, pid) })
			stopProbe()
			logger.Info("exited", "exitCode", res.exitCode, "seconds", time.Since(startedAt.Time).Round(time.Millisecond).Seconds(), "killed", ctx.Err() != nil)
			if ctx.Err() != nil {
				stopped = true
				return
			}
			reason := "Completed"
			if res.exitCode != 0 {
				reason = "Error"
			}
			term := &corev1.ContainerStateTerminated{ExitCode: int32(res.exitCode), Reason: reason, Message: res.message, //nolint:gosec // exit codes fit
				StartedAt: startedAt, FinishedAt: metav1.Now(), ContainerID: "sandbox://" + string(pod.UID)}
			restart := pod.Spec.RestartPolicy == corev1.RestartPolicyAlways ||
				(pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && res.exitCode != 0)
			if !restart {
				update(func(s *containerState) { s.running, s.ready, s.terminated = nil, false, term })
				return
			}
			var delay time.Duration
			update(func(s *containerState) {
				s.restartCount++
				delay = backoff(s.restartCount)
				s.running, s.ready, s.last = nil, false, term
				s.waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: fmt.Sprintf(
					"back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, pod.Spec.Containers[0].Name, pod.Name, pod.Namespace, pod.UID)}
			})
			select {
			case <-ctx.Done():
				stopped = true
				return
			case <-time.After(delay):
			}
		}
	}()
}

// probe follows the readiness of a web pod: GET url every second until it
// answers 2xx, then every 5 s; three failures in a row make it unready.
func (p *player) probe(ctx context.Context, url string, update func(func(*containerState))) {
	hc := &http.Client{Timeout: 3 * time.Second}
	ready, failures := false, 0
	for {
		period := time.Second
		if ready {
			period = 5 * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
		ok := false
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err == nil {
			if resp, err := hc.Do(req); err == nil {
				ok = resp.StatusCode >= 200 && resp.StatusCode < 400
				_ = resp.Body.Close()
			}
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case ok && !ready:
			ready, failures = true, 0
			update(func(s *containerState) { s.ready = s.running != nil })
		case ok:
			failures = 0
		case ready:
			if failures++; failures >= 3 {
				ready = false
				update(func(s *containerState) { s.ready = false })
			}
		}
	}
}

// annotatePID records the run's host process id on the pod, so that tests
// can look at the real process (e.g. its /proc/<pid>/cmdline).
func (p *player) annotatePID(ctx context.Context, key types.NamespacedName, uid types.UID, pid int) {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"uid": uid,
		"annotations": map[string]string{annPID: strconv.Itoa(pid)}}})
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = key.Namespace, key.Name
	if err := p.Patch(ctx, pod, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
		log.FromContext(ctx).Error(err, "recording the pid")
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// The annotations the player writes on a pod. hack/kwok/kwok.yaml's stage
// pod-data-job-finished keys on annExitCode: it ends the pod with that
// exit code and annMessage as its container's termination message.
const (
	annPrefix = "sandbox.odoo-operator.dev/"
	// annStarted is set (with optimistic locking) before the run: a pod
	// that has it without an exit code was being run by a player that died.
	annStarted  = annPrefix + "played-at"
	annExitCode = annPrefix + "exit-code"
	annMessage  = annPrefix + "termination-message"
)

// lostRunExitCode reports a run a previous player process did not finish:
// what a container killed with its node shows (128 + SIGKILL).
const lostRunExitCode = 137

// player runs each data Job pod once, with the host's operator binary.
type player struct {
	client.Client
	planner *planner
	logsDir string
	// images and ports serve the pods of the `odoo` image (reconcileOdoo).
	images odooImages
	ports  *portPool
	// base is cancelled when the player stops: runs in flight are killed
	// and left unreported (the next player fails them as lost).
	base context.Context

	mu      sync.Mutex
	running map[types.NamespacedName]run
	// done holds the pods whose run ended in this process, so that a stale
	// read never takes a finished run for a lost one.
	done map[types.UID]bool
}

type run struct {
	uid    types.UID
	cancel context.CancelFunc
}

// Reconcile plays a data Job's pod (label bemade.org/data-job=true) or a
// pod of the `odoo` image repository; main's predicate filters out others.
func (p *player) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	err := p.planner.api.Get(ctx, req.NamespacedName, pod)
	if apierrors.IsNotFound(err) {
		p.stop(req.NamespacedName, "")
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if pod.Labels[resources.DataJobLabel] != "true" {
		if len(pod.Spec.Containers) > 0 && isOdooImage(pod.Spec.Containers[0].Image) {
			return p.reconcileOdoo(ctx, pod)
		}
		return ctrl.Result{}, nil
	}
	if !pod.DeletionTimestamp.IsZero() {
		p.stop(req.NamespacedName, pod.UID)
		return ctrl.Result{}, nil
	}
	if pod.Annotations[annExitCode] != "" || p.busy(req.NamespacedName, pod.UID) {
		return ctrl.Result{}, nil
	}
	if pod.Annotations[annStarted] != "" {
		log.FromContext(ctx).Info("a previous player did not finish this pod's run; failing it", "exitCode", lostRunExitCode)
		return ctrl.Result{}, p.report(ctx, pod.Namespace, pod.Name, pod.UID, outcome{exitCode: lostRunExitCode,
			message: "sandbox job player: the player stopped during the run"})
	}
	// KWOK starts the pod (phase Running, init container done) first.
	if pod.Status.Phase != corev1.PodRunning {
		return ctrl.Result{}, nil
	}
	pl, err := p.planner.plan(ctx, pod)
	switch {
	case errors.Is(err, errNotReady):
		log.FromContext(ctx).Info("waiting", "reason", err.Error())
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	case errors.Is(err, errUnsupported):
		log.FromContext(ctx).Info("cannot run the pod", "reason", err.Error())
		return ctrl.Result{}, p.report(ctx, pod.Namespace, pod.Name, pod.UID, outcome{exitCode: 128, message: err.Error()})
	case err != nil:
		return ctrl.Result{}, err
	}
	// Claim the pod: the optimistic lock makes sure the pod seen is the
	// current one and never claimed twice.
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[annStarted] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := p.Patch(ctx, pod, patch); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		return ctrl.Result{}, err
	}
	p.start(req.NamespacedName, pod.UID, pl)
	return ctrl.Result{}, nil
}

// busy is true while this process runs the pod, or ran it.
func (p *player) busy(key types.NamespacedName, uid types.UID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, running := p.running[key]
	return (running && r.uid == uid) || p.done[uid]
}

// stop kills the run of the pod (of any uid when uid is empty).
func (p *player) stop(key types.NamespacedName, uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.running[key]; ok && (uid == "" || r.uid == uid) {
		r.cancel()
	}
}

// start runs the plan in the background and reports its outcome.
func (p *player) start(key types.NamespacedName, uid types.UID, pl *plan) {
	ctx, cancel := context.WithCancel(p.base)
	p.mu.Lock()
	p.running[key] = run{uid: uid, cancel: cancel}
	p.mu.Unlock()
	logger := ctrl.Log.WithName("run").WithValues("pod", key.String())
	output := filepath.Join(p.logsDir, key.Namespace+"_"+key.Name+".log")
	// Arguments are literal in the Job spec (no credential there); of the
	// environment only the names are logged.
	logger.Info("running", "args", strings.Join(pl.args, " "), "env", pl.envNames, "output", output)
	go func() {
		defer cancel()
		startedAt := time.Now()
		res := execute(ctx, pl, output, nil)
		// The scratch directory goes before the exit is reported, as a
		// kubelet's emptyDir does: whoever sees the pod end finds it gone.
		_ = os.RemoveAll(pl.dir)
		stopped := ctx.Err() != nil
		p.mu.Lock()
		delete(p.running, key)
		p.done[uid] = true
		p.mu.Unlock()
		logger.Info("exited", "exitCode", res.exitCode, "seconds", time.Since(startedAt).Round(time.Millisecond).Seconds(), "killed", stopped)
		if stopped {
			// The pod is gone or the player stops: nothing to report to.
			return
		}
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(p.base), time.Minute)
		defer rcancel()
		if err := p.report(rctx, key.Namespace, key.Name, uid, res); err != nil {
			logger.Error(err, "reporting the exit code")
		}
	}()
}

// report writes the exit code and termination message on the pod (whose
// uid must still be uid); KWOK then ends the pod with them.
func (p *player) report(ctx context.Context, ns, name string, uid types.UID, res outcome) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid": uid,
		"annotations": map[string]string{
			annExitCode: strconv.Itoa(res.exitCode),
			annMessage:  res.message,
		},
	}})
	if err != nil {
		return err
	}
	pod := &corev1.Pod{}
	pod.Namespace, pod.Name = ns, name
	var last error
	for range 10 {
		last = p.Patch(ctx, pod, client.RawPatch(types.MergePatchType, patch))
		if last == nil || apierrors.IsNotFound(last) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
	return last
}

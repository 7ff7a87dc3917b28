// Command sandbox-jobplayer runs the operator's data Jobs for real in the
// sandbox cluster, whose KWOK nodes run no container: for every pod of a Job
// labelled bemade.org/data-job=true (the operator's binary running `data
// ...` in a PostgreSQL client image), once, it resolves the first
// container's environment (values, secretKeyRef, configMapKeyRef), maps its
// volumes to host directories (a claim's hostPath volume made by
// hack/sandbox-provisioner, a scratch directory for an emptyDir), runs the
// host's operator binary with the same `data ...` arguments (paths
// rewritten to those directories) and writes the exit code and termination
// message on the pod as annotations, on which hack/kwok/kwok.yaml ends the
// pod. Pods of the Odoo image (init, upgrade, neutralize, filestore copy)
// are not touched: KWOK plays them as before.
package main

import (
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func main() {
	binary := flag.String("operator-binary", "bin/odoo-operator", "the operator binary that runs `data ...` on the host")
	pgBinDir := flag.String("pg-bin-dir", "/usr/lib/postgresql/15/bin", "PostgreSQL client tools given to the runs as PG_BIN_DIR")
	workDir := flag.String("work-dir", os.TempDir(), "scratch directories of the runs (emptyDirs, TMPDIR, termination logs)")
	logsDir := flag.String("logs-dir", os.TempDir(), "where each run's output goes, as <namespace>_<pod>.log")
	flag.Parse()
	ctrl.SetLogger(zap.New())
	if err := start(*binary, *pgBinDir, *workDir, *logsDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func start(binary, pgBinDir, workDir, logsDir string) error {
	for _, d := range []string{workDir, logsDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("--operator-binary: %w", err)
	}
	selector := labels.SelectorFromSet(labels.Set{resources.DataJobLabel: "true"})
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Only the data Jobs' pods are watched.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: selector}}},
	})
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	p := &player{
		Client:  mgr.GetClient(),
		planner: &planner{api: mgr.GetAPIReader(), binary: binary, pgBinDir: pgBinDir, workDir: workDir},
		logsDir: logsDir,
		base:    ctx,
		running: map[types.NamespacedName]run{},
		done:    map[types.UID]bool{},
	}
	err = ctrl.NewControllerManagedBy(mgr).Named("jobplayer").For(&corev1.Pod{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).Complete(p)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}

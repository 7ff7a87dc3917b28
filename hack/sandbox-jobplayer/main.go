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
// pod.
//
// With --odoo-dir, it also runs every pod whose first container's image is
// of the repository `odoo` (odoo:18.0, odoo:18.0-<variant>) as a real Odoo
// process on the host, for as long as the pod lives, and writes the pod's
// status itself (KWOK leaves those pods alone): see reconcileOdoo.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func main() {
	binary := flag.String("operator-binary", "bin/odoo-operator", "the operator binary that runs `data ...` on the host")
	pgBinDir := flag.String("pg-bin-dir", "/usr/lib/postgresql/15/bin", "PostgreSQL client tools given to the runs as PG_BIN_DIR")
	workDir := flag.String("work-dir", os.TempDir(), "scratch directories of the runs (emptyDirs, TMPDIR, termination logs)")
	logsDir := flag.String("logs-dir", os.TempDir(), "where each run's output goes, as <namespace>_<pod>.log")
	odooDir := flag.String("odoo-dir", "", "Odoo 18.0's source tree (hack/odoo.sh install); empty: pods of the odoo image are left to KWOK")
	addonsDir := flag.String("odoo-addons-dir", "test/odoo/addons", "the add-ons of image tag 18.0-<variant> are in <dir>/<variant>")
	portRange := flag.String("http-ports", "31000-31499", "127.0.0.1 ports for the web pods' Odoo")
	flag.Parse()
	ctrl.SetLogger(zap.New())
	var lo, hi int
	if _, err := fmt.Sscanf(*portRange, "%d-%d", &lo, &hi); err != nil || lo <= 0 || hi < lo {
		fmt.Fprintln(os.Stderr, "--http-ports: want <low>-<high>")
		os.Exit(2)
	}
	images := odooImages{odooDir: *odooDir, addonsDir: *addonsDir}
	if err := start(*binary, *pgBinDir, *workDir, *logsDir, images, newPortPool(lo, hi)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func start(binary, pgBinDir, workDir, logsDir string, images odooImages, ports *portPool) error {
	for _, d := range []string{workDir, logsDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("--operator-binary: %w", err)
	}
	if images.odooDir != "" {
		if _, err := os.Stat(filepath.Join(images.odooDir, "odoo-bin")); err != nil {
			return fmt.Errorf("--odoo-dir: %w", err)
		}
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	p := &player{
		Client:  mgr.GetClient(),
		planner: &planner{api: mgr.GetAPIReader(), binary: binary, pgBinDir: pgBinDir, workDir: workDir},
		logsDir: logsDir,
		images:  images,
		ports:   ports,
		base:    ctx,
		running: map[types.NamespacedName]run{},
		done:    map[types.UID]bool{},
	}
	// Only the data Jobs' pods, and those of the odoo image when Odoo is
	// there, are played; KWOK plays every other pod.
	played := predicate.NewPredicateFuncs(func(o client.Object) bool {
		pod, ok := o.(*corev1.Pod)
		if !ok {
			return false
		}
		return pod.Labels[resources.DataJobLabel] == "true" ||
			(images.odooDir != "" && len(pod.Spec.Containers) > 0 && isOdooImage(pod.Spec.Containers[0].Image))
	})
	err = ctrl.NewControllerManagedBy(mgr).Named("jobplayer").For(&corev1.Pod{}, builder.WithPredicates(played)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).Complete(p)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}

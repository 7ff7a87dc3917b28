package odooinstance

import (
	"bytes"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// upgradeLogLimit bounds the log read from an upgrade Job's pod: the failure
// is at its end, and a `-u all` of a large database logs a few MiB.
const upgradeLogLimit = 16 << 20

// PodLogs reads the log of a pod's container.
type PodLogs interface {
	Read(ctx context.Context, namespace, pod, container string, limitBytes int64) ([]byte, error)
}

// judgeUpgrade judges a finished upgrade Job by its exit, its log and a
// post-check of ir_module_module against the snapshot taken before: Odoo
// exits 0 on unknown modules and inconsistent states, and a failure at module
// N leaves modules 1..N-1 committed.
func (r *Reconciler) judgeUpgrade(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) (*upgrade.Verdict, error) {
	inst := s.instance
	job := &batchv1.Job{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: st.JobName}, job); err != nil {
		// Deleted since it finished: judged on the database alone.
		if client.IgnoreNotFound(err) != nil {
			return nil, err
		}
		job = nil
	}
	var pods []corev1.Pod
	if job != nil {
		list := &corev1.PodList{}
		if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabels{"job-name": st.JobName}); err != nil {
			return nil, err
		}
		pods = list.Items
	}
	var outcome resources.JobOutcome
	if job != nil {
		outcome = resources.InitJobOutcome(job, pods)
	}
	logVerdict, logNote := r.judgeUpgradeLog(ctx, inst, pods)

	before, err := r.readSnapshot(ctx, inst, st)
	if err != nil {
		return nil, err
	}
	var after []dbtools.Module
	err = r.Databases.WithTenantDatabase(ctx, s.cluster, s.tenantLogin(), s.dbName, func(conn *pgx.Conn) error {
		var err error
		after, err = dbtools.ReadModules(ctx, conn)
		return err
	})
	if err != nil && !errors.Is(err, dbtools.ErrNoModuleTable) {
		return nil, wrap("post-check of the module versions", err)
	}
	j := upgrade.Judged{JobFailed: outcome.Failed, JobMessage: outcome.Message, Log: logVerdict, LogNote: logNote,
		Before: before, After: after, PostCheckErr: err}
	v := upgrade.Judge(st, j)
	return &v, nil
}

// judgeUpgradeLog reads the Job pod's log. A log that cannot be read (the
// node is gone) is noted, not fatal: exit code and post-check still judge.
func (r *Reconciler) judgeUpgradeLog(ctx context.Context, inst *odoov1alpha2.OdooInstance, pods []corev1.Pod) (logwatch.UpgradeLogVerdict, string) {
	if r.PodLogs == nil || len(pods) == 0 {
		return logwatch.UpgradeLogVerdict{}, "the Job's log is gone"
	}
	pod := newestPod(pods)
	data, err := r.PodLogs.Read(ctx, inst.Namespace, pod.Name, resources.ContainerName, upgradeLogLimit)
	if err != nil {
		return logwatch.UpgradeLogVerdict{}, "the Job's log could not be read"
	}
	return logwatch.JudgeUpgradeLog(bytes.NewReader(data)), ""
}

func newestPod(pods []corev1.Pod) corev1.Pod {
	newest := pods[0]
	for _, p := range pods[1:] {
		if p.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = p
		}
	}
	return newest
}

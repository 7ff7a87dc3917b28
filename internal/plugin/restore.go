package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// restoreSourceOf is where a completed OdooBackupJob stored its file:
// status.objectKey (the key the backup really wrote) on its destination.
func restoreSourceOf(b *odoov1alpha2.OdooBackupJob) (odoov1alpha2.RestoreSource, error) {
	if b.Status.Phase != odoov1alpha2.JobCompleted {
		phase := string(b.Status.Phase)
		if phase == "" {
			phase = "Pending"
		}
		return odoov1alpha2.RestoreSource{}, failf("OdooBackupJob %s is %s: only a Completed backup can be restored", b.Name, phase)
	}
	key := b.Status.ObjectKey
	d := b.Spec.Destination
	if d.PVC != nil {
		if key == "" {
			key = d.PVC.Path
		}
		return odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC, PVC: &odoov1alpha2.PVCLocation{ClaimName: d.PVC.ClaimName, Path: key}}, nil
	}
	s3 := d.S3Location
	if key != "" {
		s3.ObjectKey = key
	}
	return odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceS3, S3: &s3}, nil
}

// restoreFor is the OdooRestoreJob `kubectl odoo restore` creates.
func restoreFor(inst *odoov1alpha2.OdooInstance, name string, src odoov1alpha2.RestoreSource, format odoov1alpha2.BackupFormat, neutralize *bool) *odoov1alpha2.OdooRestoreJob {
	return &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: inst.Namespace},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name},
			Source:          src, Format: format, Neutralize: neutralize,
		},
	}
}

func describeSource(src odoov1alpha2.RestoreSource) string {
	switch {
	case src.PVC != nil:
		return "claim " + src.PVC.ClaimName + " at " + src.PVC.Path
	case src.S3 != nil:
		return "s3://" + src.S3.Bucket + "/" + src.S3.ObjectKey
	}
	return string(src.Type)
}

func newRestoreCommand(o *options) *cobra.Command {
	var name, from, format string
	var neutralize, wait bool
	var timeout time.Duration
	var s3 s3Flags
	cmd := &cobra.Command{
		Use:   "restore NAME --from BACKUP",
		Short: "Restore an instance from an OdooBackupJob or a location (creates an OdooRestoreJob)",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return failf("--from is required: the name of an OdooBackupJob, pvc:CLAIM/PATH or s3://BUCKET/KEY")
			}
			s, err := o.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			inst, err := s.instance(ctx, args[0])
			if err != nil {
				return err
			}
			var src odoov1alpha2.RestoreSource
			bformat := odoov1alpha2.BackupFormat(format)
			if strings.HasPrefix(from, "pvc:") || strings.HasPrefix(from, "s3://") {
				d, err := parseLocation(from, s3)
				if err != nil {
					return err
				}
				if d.PVC != nil {
					src = odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC, PVC: d.PVC}
				} else {
					src = odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceS3, S3: &d.S3Location}
				}
			} else {
				b := &odoov1alpha2.OdooBackupJob{}
				if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: from}, b); err != nil {
					if apierrors.IsNotFound(err) {
						return failf("--from %s: no OdooBackupJob of that name in namespace %s (or give pvc:CLAIM/PATH or s3://BUCKET/KEY)", from, s.namespace)
					}
					return failf("reading OdooBackupJob %s: %v", from, err)
				}
				if src, err = restoreSourceOf(b); err != nil {
					return err
				}
				if !cmd.Flags().Changed("format") && b.Spec.Format != "" {
					bformat = b.Spec.Format
				}
			}
			if name == "" {
				name = timestampName(inst.Name, "restore", time.Now())
			}
			var n *bool
			if cmd.Flags().Changed("neutralize") {
				n = ptr.To(neutralize)
			}
			r := restoreFor(inst, name, src, bformat, n)
			if err := s.c.Create(ctx, r); err != nil {
				return failf("creating OdooRestoreJob %s: %v", name, err)
			}
			out := o.streams.Out
			_, _ = fmt.Fprintf(out, "OdooRestoreJob %s created: restores %s into %s (database %s).\n", r.Name, describeSource(src), inst.Name, dbName(inst))
			_, _ = fmt.Fprintln(out, "The backup is loaded into a new database and checked; then web and cron stop, the databases are swapped"+
				" (the current one is kept aside), the filestore is moved, and web and cron start again.")
			if suspendedInstance(inst) {
				_, _ = fmt.Fprintf(out, "The instance is suspended: the restore loads the backup, then waits at step Stop until it is resumed (kubectl odoo resume %s).\n", inst.Name)
			}
			if !wait {
				_, err := fmt.Fprintf(out, "Follow it with: kubectl get odoorestorejobs.v1alpha2.bemade.org %s -n %s -w\n", r.Name, r.Namespace)
				return err
			}
			return follow(ctx, out, timeout, "restore "+r.Name, func(ctx context.Context) (observation, error) {
				cur := &odoov1alpha2.OdooRestoreJob{}
				if err := s.c.Get(ctx, client.ObjectKeyFromObject(r), cur); err != nil {
					return observation{}, err
				}
				return restoreObservation(cur, s.jobPod(ctx, cur.Status.JobName)), nil
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "an OdooBackupJob's name, pvc:CLAIM/PATH or s3://BUCKET/KEY")
	cmd.Flags().StringVar(&name, "name", "", "name of the OdooRestoreJob (default <instance>-restore-<utc time>)")
	cmd.Flags().StringVar(&format, "format", "zip", "format of a location's file: zip or dump (from an OdooBackupJob: its format)")
	cmd.Flags().BoolVar(&neutralize, "neutralize", false, "neutralize the restored database (default: the operator's, true unless the instance is Production)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the restore's steps until it is Completed or Failed (exit code 1 when it failed)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Hour, "how long --wait waits")
	s3.add(cmd)
	return cmd
}

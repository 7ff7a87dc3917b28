package plugin

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// s3Flags are the S3 fields of an s3:// location.
type s3Flags struct {
	endpoint, secret, region string
	insecure                 bool
}

func (f *s3Flags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpoint, "s3-endpoint", "", "S3 endpoint URL of an s3:// location")
	cmd.Flags().StringVar(&f.secret, "s3-secret", "", "Secret (same namespace) with the S3 credentials of an s3:// location")
	cmd.Flags().StringVar(&f.region, "s3-region", "", "S3 region of an s3:// location")
	cmd.Flags().BoolVar(&f.insecure, "s3-insecure", false, "plain HTTP to the S3 endpoint")
}

// parseLocation reads pvc:CLAIM/PATH or s3://BUCKET/KEY (with the S3 flags)
// into a destination: the file itself, not a directory.
func parseLocation(loc string, s3 s3Flags) (odoov1alpha2.BackupDestination, error) {
	if rest, ok := strings.CutPrefix(loc, "pvc:"); ok {
		claim, p, _ := strings.Cut(rest, "/")
		if claim == "" || p == "" {
			return odoov1alpha2.BackupDestination{}, failf("location %q: write pvc:CLAIM/PATH, e.g. pvc:backups/shop/manual.zip", loc)
		}
		return odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: claim, Path: path.Clean(p)}}, nil
	}
	if rest, ok := strings.CutPrefix(loc, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" || key == "" {
			return odoov1alpha2.BackupDestination{}, failf("location %q: write s3://BUCKET/KEY", loc)
		}
		if s3.endpoint == "" || s3.secret == "" {
			return odoov1alpha2.BackupDestination{}, failf("location %q: an S3 location needs --s3-endpoint and --s3-secret (the Secret with the credentials)", loc)
		}
		return odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{
			Bucket: bucket, ObjectKey: key, Endpoint: s3.endpoint, Region: s3.region, Insecure: s3.insecure,
			S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: s3.secret},
		}}, nil
	}
	return odoov1alpha2.BackupDestination{}, failf("location %q: write pvc:CLAIM/PATH or s3://BUCKET/KEY", loc)
}

// backupFor is the OdooBackupJob `kubectl odoo backup` creates: to the
// location given, else where the instance's scheduled backups go.
func backupFor(inst *odoov1alpha2.OdooInstance, name, destination string, format odoov1alpha2.BackupFormat, s3 s3Flags) (*odoov1alpha2.OdooBackupJob, error) {
	var dest odoov1alpha2.BackupDestination
	switch {
	case destination != "":
		d, err := parseLocation(destination, s3)
		if err != nil {
			return nil, err
		}
		dest = d
	case inst.Spec.Backup.Destination != nil:
		dest = resources.BackupDestinationFor(inst.Spec.Backup.Destination, name, format)
	default:
		return nil, failf("no destination: give --destination pvc:CLAIM/PATH or s3://BUCKET/KEY, or set spec.backup.destination on %s", inst.Name)
	}
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: inst.Namespace},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name},
			Format:          format, WithFilestore: ptr.To(true), Destination: dest,
		},
	}, nil
}

// describeDestination names a destination for people.
func describeDestination(d odoov1alpha2.BackupDestination) string {
	if d.PVC != nil {
		return "claim " + d.PVC.ClaimName + " at " + d.PVC.Path
	}
	return "s3://" + d.Bucket + "/" + d.ObjectKey + " (" + d.Endpoint + ")"
}

// timestampName is <instance>-<kind>-<yyyymmdd-hhmmss>, within 63 bytes.
func timestampName(instance, kind string, now time.Time) string {
	suffix := "-" + kind + "-" + now.UTC().Format("20060102-150405")
	if len(instance)+len(suffix) > 63 {
		instance = strings.TrimRight(instance[:63-len(suffix)], "-.")
	}
	return instance + suffix
}

func newBackupCommand(o *options) *cobra.Command {
	var name, destination, format string
	var wait bool
	var timeout time.Duration
	var s3 s3Flags
	cmd := &cobra.Command{
		Use:   "backup NAME",
		Short: "Back up an instance (creates an OdooBackupJob); --wait follows it to the end",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			inst, err := s.instance(ctx, args[0])
			if err != nil {
				return err
			}
			if name == "" {
				name = timestampName(inst.Name, "backup", time.Now())
			}
			b, err := backupFor(inst, name, destination, odoov1alpha2.BackupFormat(format), s3)
			if err != nil {
				return err
			}
			if err := s.c.Create(ctx, b); err != nil {
				return failf("creating OdooBackupJob %s: %v", name, err)
			}
			out := o.streams.Out
			_, _ = fmt.Fprintf(out, "OdooBackupJob %s created: a %s backup of %s (database and filestore) to %s\n",
				b.Name, format, inst.Name, describeDestination(b.Spec.Destination))
			if !wait {
				_, err := fmt.Fprintf(out, "Follow it with: kubectl get odoobackupjobs.v1alpha2.bemade.org %s -n %s -w\n", b.Name, b.Namespace)
				return err
			}
			return follow(ctx, out, timeout, "backup "+b.Name, func(ctx context.Context) (observation, error) {
				cur := &odoov1alpha2.OdooBackupJob{}
				if err := s.c.Get(ctx, client.ObjectKeyFromObject(b), cur); err != nil {
					return observation{}, err
				}
				return backupObservation(cur, s.jobPod(ctx, cur.Status.JobName)), nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name of the OdooBackupJob (default <instance>-backup-<utc time>)")
	cmd.Flags().StringVar(&destination, "destination", "", "pvc:CLAIM/PATH or s3://BUCKET/KEY (default: spec.backup.destination of the instance)")
	cmd.Flags().StringVar(&format, "format", "zip", "zip (Odoo's format, with the filestore) or dump")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the backup until it is Completed or Failed (exit code 1 when it failed)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "how long --wait waits")
	s3.add(cmd)
	return cmd
}

package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

// BackupKeys are the keys `data backup` writes for the backup at key, in the
// order delete-backup removes them: the checksum first, so that a backup
// partly deleted is never taken for a complete one, then the archive, then
// the filestore tar of a dump-format backup and its checksum.
func BackupKeys(key string) []string {
	fsKey := key + filestoreSuffix
	return []string{objectstore.ChecksumKey(key), key, objectstore.ChecksumKey(fsKey), fsKey}
}

func newDeleteBackupCommand(opts *dataOptions) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "delete-backup --from s3://BUCKET/PREFIX/NAME|file:///DIR/NAME",
		Short: "Delete a backup written by `data backup`: NAME, NAME.sha256, NAME" + filestoreSuffix + " and its .sha256",
		Long: "Delete a backup written by `data backup` and every file it writes beside it: NAME.sha256 first (a\n" +
			"backup without it counts as incomplete, so one partly deleted is never restored), then NAME, then\n" +
			"NAME" + filestoreSuffix + ".sha256 and NAME" + filestoreSuffix + ", and what a backup killed mid-upload left\n" +
			"of them (S3 multipart uploads, temporary files). Files already absent are fine, so a retried Job\n" +
			"finishes the work. Nothing else under the prefix or directory is touched. S3 settings come from\n" +
			"the environment, as for `data backup`.",
		Args: cobra.NoArgs,
		RunE: dataRunE(opts, "delete-backup", func(ctx context.Context, log *slog.Logger, _ io.Writer, res *datajob.Result) error {
			return deleteBackup(ctx, log, from, res)
		}),
	}
	cmd.Flags().StringVar(&from, "from", "", "the backup: s3://BUCKET/PREFIX/NAME or file:///DIR/NAME")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// deleteBackup removes the keys of BackupKeys, then the remains of their
// unfinished uploads; res.Removed lists what was there.
func deleteBackup(ctx context.Context, log *slog.Logger, from string, res *datajob.Result) error {
	store, key, _, err := openBackupLocation(from, res)
	if err != nil {
		return err
	}
	for _, k := range BackupKeys(key) {
		obj, err := store.Stat(ctx, k)
		switch {
		case errors.Is(err, objectstore.ErrNotFound):
			continue
		case err != nil:
			return err
		}
		if err := store.Delete(ctx, k); err != nil {
			return err
		}
		res.Removed = append(res.Removed, k)
		res.Bytes += obj.Size
		log.Info("deleted", "key", k, "bytes", obj.Size, "store", store.String())
	}
	// What a backup Job killed mid-upload left: invisible, but it takes space.
	if pr, ok := store.(objectstore.PartialRemover); ok {
		for _, k := range BackupKeys(key) {
			n, err := pr.RemovePartial(ctx, k)
			if err != nil {
				return err
			}
			if n > 0 {
				res.Removed = append(res.Removed, fmt.Sprintf("%d unfinished upload(s) of %s", n, k))
				log.Info("removed unfinished uploads", "key", k, "count", n, "store", store.String())
			}
		}
	}
	if len(res.Removed) == 0 {
		log.Info("nothing to delete: the backup's files are already gone", "from", res.File)
	}
	return nil
}

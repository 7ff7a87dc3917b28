package manager

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/odoo-operator/odoo-operator/internal/backup/fsswap"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

type swapFilestoreFlags struct {
	dir, database, target, kept string
}

// newSwapFilestoreCommand is `data swap-filestore`, run by an
// OdooRestoreJob's Job once the databases are swapped.
func newSwapFilestoreCommand(opts *dataOptions) *cobra.Command {
	var f swapFilestoreFlags
	cmd := &cobra.Command{
		Use:   "swap-filestore --dir DIR --database DB --target TARGET --kept KEPT",
		Short: "Move a restored filestore into place: DIR/DB becomes DIR/KEPT, DIR/TARGET becomes DIR/DB",
		Long: "Rename DIR/DB (the filestore of the database a restore replaced) to DIR/KEPT, then DIR/TARGET (the\n" +
			"restored filestore) to DIR/DB. Nothing is copied or deleted. Run again after an interruption, it\n" +
			"finishes the work; a state it cannot explain is refused without moving anything. When DIR/TARGET\n" +
			"does not exist (the backup held no filestore), DIR/DB stays in place and the result says \"absent\".",
		Args: cobra.NoArgs,
		RunE: dataRunE(opts, "swap-filestore", func(_ context.Context, log *slog.Logger, _ io.Writer, res *datajob.Result) error {
			res.Database = f.database
			moved, err := fsswap.Swap(f.dir, f.database, f.target, f.kept)
			if err != nil {
				return err
			}
			res.Filestore = datajob.FilestoreAbsent
			if moved {
				res.Filestore = datajob.FilestoreMoved
			}
			log.Info("filestore", "dir", f.dir, "database", f.database, "restored", f.target, "kept", f.kept, "result", res.Filestore)
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "the filestore root: <data_dir>/filestore")
	fl.StringVar(&f.database, "database", "", "the live database's name")
	fl.StringVar(&f.target, "target", "", "the database name the backup's filestore was restored under")
	fl.StringVar(&f.kept, "kept", "", "the name the previous filestore is kept under")
	for _, n := range []string{"dir", "database", "target", "kept"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

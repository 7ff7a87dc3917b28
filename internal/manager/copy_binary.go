package manager

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newCopyBinaryCommand copies the running binary to a path: the init
// container of a data Job puts it into a volume shared with a PostgreSQL
// client image, whose pg_dump and pg_restore it then drives. The operator's
// image has no shell, so the copy is the binary's own job.
func newCopyBinaryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "copy-binary DEST",
		Short: "Copy this binary to DEST (used by the init container of data Jobs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			return copyExecutable(self, args[0])
		},
	}
}

func copyExecutable(src, dest string) error {
	in, err := os.Open(src) //nolint:gosec // the running binary's own path
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".copy-*")
	if err != nil {
		return fmt.Errorf("copying to %s: %w", dest, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := io.Copy(tmp, in); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("copying to %s: %w", dest, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

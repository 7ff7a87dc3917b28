// Package plugin is the kubectl plugin `kubectl odoo`: a thin client of the
// operator's API. Everything it shows is read from the objects' status;
// everything it does is what a user could do with kubectl (annotate, create
// an OdooBackupJob or OdooRestoreJob, exec), so it needs no permission
// beyond the user's own.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// exitError carries a process exit code without printing a stack trace:
// the message has been printed already (or is printed by Main).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// failf is a user-facing failure: printed as "error: ..." with exit code 1.
func failf(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

// Main runs the plugin with args and returns the process exit code.
func Main(streams genericiooptions.IOStreams, args []string) int {
	root := NewRootCommand(streams)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			_, _ = fmt.Fprintln(streams.ErrOut, "error: "+ee.msg)
		}
		return ee.code
	}
	_, _ = fmt.Fprintln(streams.ErrOut, "error: "+err.Error())
	return 1
}

// NewRootCommand builds `kubectl odoo` with kubectl's connection flags
// (--kubeconfig, --context, -n/--namespace, ...).
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	o := &options{flags: flags, streams: streams}
	cmd := &cobra.Command{
		Use: "kubectl-odoo",
		// Shown as kubectl shows its plugins: `kubectl odoo ...`.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl odoo"},
		Short:       "Operate Odoo instances of the Odoo operator",
		Long: `kubectl odoo shows and operates OdooInstances: their status in one screen,
upgrades, backups, restores, the errors found in their logs, suspending their
reconciliation and a psql shell with the instance's own credentials.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	flags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(
		newStatusCommand(o),
		newUpgradeCommand(o),
		newBackupCommand(o),
		newRestoreCommand(o),
		newLogsCommand(o),
		newSuspendCommand(o, true),
		newSuspendCommand(o, false),
		newPsqlCommand(o),
	)
	return cmd
}

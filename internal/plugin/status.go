package plugin

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

func newStatusCommand(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show an instance in one screen: phase, images, database, backup, health, operation, upgrade",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return failf("--output %q: use json or yaml, or leave it out for the human view", output)
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
			backups, restores, err := s.instanceJobs(ctx, inst.Name)
			if err != nil {
				return failf("%v", err)
			}
			now := time.Now()
			r := buildReport(inst, backups, restores, now)
			out := o.streams.Out
			switch output {
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			case "yaml":
				b, err := yaml.Marshal(r)
				if err != nil {
					return err
				}
				_, err = out.Write(b)
				return err
			}
			return renderStatus(out, r, now)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json or yaml")
	return cmd
}

// exactlyOneName is cobra.ExactArgs(1) with a message naming the argument.
func exactlyOneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return failf("%s needs exactly one instance NAME (usage: kubectl odoo %s)", cmd.Name(), cmd.Use)
	}
	return nil
}

// Command odoo-operator runs the Odoo operator: the controller manager, and
// (in later versions) the data subcommands its Jobs run.
package main

import (
	"os"

	"github.com/odoo-operator/odoo-operator/internal/manager"
)

func main() {
	if err := manager.NewRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

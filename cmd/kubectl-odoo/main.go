// Command kubectl-odoo is the kubectl plugin of the Odoo operator: installed
// on PATH it runs as `kubectl odoo status|upgrade|backup|restore|logs|
// suspend|resume|psql NAME`. See docs/plugin.md.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/odoo-operator/odoo-operator/internal/plugin"
)

func main() {
	os.Exit(plugin.Main(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:]))
}

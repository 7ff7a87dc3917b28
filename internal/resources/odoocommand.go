package resources

import "path"

// ConfPath is where every Odoo container reads odoo.conf (the conf Secret's
// mount).
var ConfPath = path.Join(ConfMountPath, ConfFileName)

// OdooCommand is the command of every Odoo container: the image's `odoo`
// executable, with an optional subcommand (e.g. "neutralize", which Odoo
// only recognises as the first argument), reading the operator's odoo.conf
// directly. Not the official image's /entrypoint.sh: it copies db_password
// from the file into Odoo's arguments, where /proc/<pid>/cmdline shows it
// to every process on the node.
func OdooCommand(subcommand ...string) []string {
	return append(append([]string{"odoo"}, subcommand...), "-c", ConfPath)
}

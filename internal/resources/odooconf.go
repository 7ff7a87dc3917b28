package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// DatabaseConnection is how Odoo reaches its database.
type DatabaseConnection struct {
	Host     string
	Port     int32
	Name     string
	User     string
	Password string
	// SSLMode is libpq's sslmode (db_sslmode); empty keeps Odoo's default.
	SSLMode string
}

// ConfInputs is everything odoo.conf is rendered from. The secrets in it are
// resolved by the reconciler; the builder only formats them.
type ConfInputs struct {
	Instance      *odoov1alpha2.OdooInstance
	Database      DatabaseConnection
	AdminPassword string
}

// perRoleOptions differ between web and cron pods, so they are passed on the
// command line (which wins over odoo.conf) and left out of the shared file.
// validOptionName is the admission rule for configOptions keys, checked again
// here because a key with a line break or '=' would corrupt the file.
var validOptionName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

var perRoleOptions = map[string]bool{"workers": true, "max_cron_threads": true, "http_enable": true}

// defaultAddonsPath is odoo.conf's addons_path unless configOptions sets
// it: the official image's directory for extra add-ons.
const defaultAddonsPath = "/mnt/extra-addons"

// RenderOdooConf renders odoo.conf: the operator's options, then
// spec.configOptions (which may override the defaults but not the keys the
// operator owns), one per line in a stable order so the hash only changes when
// the content does.
func RenderOdooConf(in ConfInputs) string {
	opts := map[string]string{
		"addons_path": defaultAddonsPath,
		"proxy_mode":  "True",
		"list_db":     "False",
		"log_level":   "info",
		"logfile":     "",
	}
	for k, v := range in.Instance.Spec.ConfigOptions {
		if perRoleOptions[k] || !validOptionName.MatchString(k) {
			continue
		}
		opts[k] = string(v)
	}
	// The operator's keys are written last so no configOptions entry (from an
	// object admitted before the CEL rule existed) can redirect the database.
	owned := map[string]string{
		"db_host":      in.Database.Host,
		"db_port":      fmt.Sprint(in.Database.Port),
		"db_user":      in.Database.User,
		"db_password":  in.Database.Password,
		"db_name":      in.Database.Name,
		"dbfilter":     "^" + regexp.QuoteMeta(in.Database.Name) + "$",
		"admin_passwd": in.AdminPassword,
		// The probes, Service and volume mounts depend on these.
		"data_dir":       FilestorePath,
		"http_interface": "0.0.0.0",
		"http_port":      fmt.Sprint(HTTPPort),
		"gevent_port":    fmt.Sprint(WebsocketPort),
	}
	if in.Database.SSLMode != "" {
		owned["db_sslmode"] = in.Database.SSLMode
	}
	for k, v := range owned {
		opts[k] = v
	}

	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("[options]\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, singleLine(opts[k]))
	}
	return b.String()
}

// singleLine keeps a value on its line: a newline in a value would let it
// inject further options into odoo.conf.
func singleLine(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}

// ConfHash is the short hash stamped on pod templates so a configuration
// change rolls the pods. It covers secrets too, but a sha256 prefix of a file
// that holds 32 random bytes reveals nothing.
func ConfHash(conf string) string {
	sum := sha256.Sum256([]byte(conf))
	return hex.EncodeToString(sum[:])[:16]
}

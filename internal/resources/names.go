// Package resources holds the pure builders of the objects an OdooInstance
// owns: instance (and what was read for it) in, desired objects out. Nothing
// here talks to the API server, so every builder is tested with tables.
package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Fixed paths and ports of the Odoo containers.
const (
	HTTPPort        = 8069
	WebsocketPort   = 8072
	ConfMountPath   = "/etc/odoo"
	ConfFileName    = "odoo.conf"
	FilestorePath   = "/var/lib/odoo"
	ContainerName   = "odoo"
	FieldManager    = "odoo-operator"
	ManagedByLabel  = "app.kubernetes.io/managed-by"
	ManagedByValue  = "odoo-operator"
	ComponentLabel  = "app.kubernetes.io/component"
	NameLabel       = "app.kubernetes.io/name"
	InstanceLabel   = "app.kubernetes.io/instance"
	ComponentWeb    = "web"
	ComponentCron   = "cron"
	postgresMaxName = 63
)

// WebName is the name of the web Deployment, the Service and the Ingress.
func WebName(inst *odoov1alpha2.OdooInstance) string { return inst.Name }

// CronName is the name of the cron Deployment.
func CronName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-cron" }

// ConfSecretName is the name of the Secret holding odoo.conf.
func ConfSecretName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-odoo-conf" }

// UserSecretName is the name of the Secret holding the database credentials.
func UserSecretName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-odoo-user" }

// FilestorePVCName is the name of the filestore PersistentVolumeClaim, the
// same as the reference operator's so existing volumes are adopted.
func FilestorePVCName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-filestore-pvc" }

// FilestoreClaimName is the claim the instance uses: status.filestore.claimName
// once recorded (a migration moved it), otherwise FilestorePVCName.
func FilestoreClaimName(inst *odoov1alpha2.OdooInstance) string {
	if f := inst.Status.Filestore; f != nil && f.ClaimName != "" {
		return f.ClaimName
	}
	return FilestorePVCName(inst)
}

// FilestoreTargetClaimName is the claim a migration from source to class
// copies into: <name>-filestore-<hash8>. The hash covers the source claim too,
// so migrating back and forth never reuses a claim that still holds old data.
func FilestoreTargetClaimName(inst *odoov1alpha2.OdooInstance, source, class string) string {
	return withSuffix(inst.Name, "-filestore-"+hash8(source, class))
}

// FilestoreCopyJobName is the Job copying source to target: <name>-fsmigrate-<hash8>.
func FilestoreCopyJobName(inst *odoov1alpha2.OdooInstance, source, target string) string {
	return withSuffix(inst.Name, "-fsmigrate-"+hash8(source, target))
}

func hash8(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:8]
}

// withSuffix appends suffix to name, truncating name to fit 63 characters.
func withSuffix(name, suffix string) string {
	if len(name)+len(suffix) > 63 {
		name = strings.TrimRight(name[:63-len(suffix)], "-.")
	}
	return name + suffix
}

// TLSSecretName is the Secret cert-manager fills for the Ingress.
func TLSSecretName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-tls" }

var unsafeDBChars = regexp.MustCompile(`[^a-z0-9_]`)

// DatabaseName is spec.database.name, or a stable name derived from the
// namespace and the instance name that fits PostgreSQL's 63 bytes. Namespaces
// and names never contain '_', so <namespace>_<name> is unique as long as
// nothing had to be replaced; when '-' or '.' were replaced (shop-v2 and
// shop.v2 would both become shop_v2) a hash of the real identity keeps two
// instances from ever sharing a database.
func DatabaseName(inst *odoov1alpha2.OdooInstance) string {
	if inst.Spec.Database.Name != "" {
		return inst.Spec.Database.Name
	}
	raw := inst.Namespace + "_" + inst.Name
	name := unsafeDBChars.ReplaceAllString(strings.ToLower(raw), "_")
	if name == raw {
		return fitPostgresName(name, inst.Namespace+"/"+inst.Name, "_")
	}
	suffix := "_" + identityHash(inst.Namespace+"/"+inst.Name)
	return name[:min(len(name), postgresMaxName-len(suffix))] + suffix
}

// RoleName is the instance's PostgreSQL login role. It keeps the reference
// operator's odoo.<namespace>.<name> form when that fits in 63 bytes, and
// otherwise truncates with a hash suffix so that distinct instances never
// share a role.
func RoleName(inst *odoov1alpha2.OdooInstance) string {
	return fitPostgresName("odoo."+inst.Namespace+"."+inst.Name, inst.Namespace+"/"+inst.Name, ".")
}

// fitPostgresName returns name when it fits PostgreSQL's identifier limit, and
// otherwise a prefix of it plus a hash of identity.
func fitPostgresName(name, identity, sep string) string {
	if len(name) <= postgresMaxName {
		return name
	}
	suffix := sep + identityHash(identity)
	return name[:postgresMaxName-len(suffix)] + suffix
}

func identityHash(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:])[:10]
}

// SelectorLabels select the pods of one component. They reuse the reference
// operator's app=<name> and app=<name>-cron so its Deployments, whose
// selectors are immutable, can be adopted in place.
func SelectorLabels(inst *odoov1alpha2.OdooInstance, component string) map[string]string {
	app := WebName(inst)
	if component == ComponentCron {
		app = CronName(inst)
	}
	return map[string]string{odoov1alpha2.LabelApp: app}
}

// Labels are put on every object of an instance and on its pods.
func Labels(inst *odoov1alpha2.OdooInstance, component string) map[string]string {
	l := map[string]string{
		NameLabel:                  "odoo",
		InstanceLabel:              inst.Name,
		ManagedByLabel:             ManagedByValue,
		odoov1alpha2.LabelInstance: inst.Name,
	}
	if component != "" {
		l[ComponentLabel] = component
	}
	return l
}

// PodLabels are the selector labels plus the common labels.
func PodLabels(inst *odoov1alpha2.OdooInstance, component string) map[string]string {
	l := Labels(inst, component)
	for k, v := range SelectorLabels(inst, component) {
		l[k] = v
	}
	return l
}

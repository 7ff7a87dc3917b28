package resources

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Keys of the read-only Secret besides UserSecretUsernameKey and
// UserSecretPasswordKey: where BI tools connect.
const (
	ReadOnlySecretHostKey     = "host"
	ReadOnlySecretPortKey     = "port"
	ReadOnlySecretDatabaseKey = "database"
)

// ReadOnlySecretName is the Secret of spec.readOnlySqlAccess.
func ReadOnlySecretName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-odoo-ro" }

// ReadOnlyEnabled reports whether the instance asks for a read-only login.
func ReadOnlyEnabled(inst *odoov1alpha2.OdooInstance) bool {
	ro := inst.Spec.ReadOnlySQLAccess
	return ro != nil && ro.Enabled != nil && *ro.Enabled
}

// ReadOnlyConnectionLimit is spec.readOnlySqlAccess.connectionLimit, 5 when
// unset (the reference operator's default).
func ReadOnlyConnectionLimit(inst *odoov1alpha2.OdooInstance) int32 {
	if ro := inst.Spec.ReadOnlySQLAccess; ro != nil && ro.ConnectionLimit != nil {
		return *ro.ConnectionLimit
	}
	return 5
}

// NewReadOnlySecret is the read-only login's Secret, owned by the instance:
// the role name, a new random password and where to connect. The operator
// creates it once and reads the password back; it never trusts its username
// (the role is always the instance's role with _ro).
func NewReadOnlySecret(inst *odoov1alpha2.OdooInstance, role, password, host string, port int32, database string) *corev1.Secret {
	controller := true
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ReadOnlySecretName(inst),
			Namespace: inst.Namespace,
			Labels:    Labels(inst, "database"),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: odoov1alpha2.GroupVersion.String(), Kind: "OdooInstance", Name: inst.Name, UID: inst.UID,
				Controller: &controller, BlockOwnerDeletion: &controller,
			}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			UserSecretUsernameKey:     []byte(role),
			UserSecretPasswordKey:     []byte(password),
			ReadOnlySecretHostKey:     []byte(host),
			ReadOnlySecretPortKey:     []byte(strconv.Itoa(int(port))),
			ReadOnlySecretDatabaseKey: []byte(database),
		},
	}
}

package resources

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Keys of the database credentials Secret, as the reference operator names them.
const (
	UserSecretUsernameKey = "username"
	UserSecretPasswordKey = "password"
)

// ConfSecret holds odoo.conf. It carries db_password and admin_passwd, so it is
// a Secret, never a plain-text object.
func ConfSecret(inst *odoov1alpha2.OdooInstance, conf string) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(ConfSecretName(inst), inst.Namespace).
		WithLabels(Labels(inst, "config")).
		WithOwnerReferences(OwnerReference(inst)).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{ConfFileName: []byte(conf)})
}

// NewUserSecret is the database credentials Secret, created once with a fresh
// password of 32 random bytes and never rewritten, so the password is stable.
func NewUserSecret(inst *odoov1alpha2.OdooInstance, password string) *corev1.Secret {
	controller := true
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      UserSecretName(inst),
			Namespace: inst.Namespace,
			Labels:    Labels(inst, "database"),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         odoov1alpha2.GroupVersion.String(),
				Kind:               "OdooInstance",
				Name:               inst.Name,
				UID:                inst.UID,
				Controller:         &controller,
				BlockOwnerDeletion: &controller,
			}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			UserSecretUsernameKey: []byte(RoleName(inst)),
			UserSecretPasswordKey: []byte(password),
		},
	}
}

// NewPassword returns 32 random bytes, URL-safe base64 encoded (43 characters),
// safe to place in odoo.conf and connection strings without quoting.
func NewPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CheckUserSecret says why the database credentials Secret may not be used
// for the instance, "" when it may: it must be the one the operator created
// for this very instance (an owner reference to the instance's UID) and name
// the role the operator derives for it (RoleName), with a password. A Secret
// a tenant wrote, naming another tenant's role, would otherwise make the
// operator reset that role's password and hand over its databases. The
// reference operator's Secret (owner reference to the instance, username
// odoo.<namespace>.<name>) passes as it is.
func CheckUserSecret(inst *odoov1alpha2.OdooInstance, secret *corev1.Secret) string {
	owned := false
	for _, ref := range secret.OwnerReferences {
		if ref.UID == inst.UID && ref.Kind == "OdooInstance" && ref.Name == inst.Name {
			owned = true
		}
	}
	role := RoleName(inst)
	switch {
	case !owned:
		return fmt.Sprintf("Secret %s was not created by the operator for this OdooInstance (no owner reference to its UID %s); it is not used. "+
			"Delete it: the operator then creates its own, for role %q with a new password", secret.Name, inst.UID, role)
	case string(secret.Data[UserSecretUsernameKey]) != role:
		return fmt.Sprintf("Secret %s names role %q, but this instance's role is always %q; it is not used. "+
			"Delete it (or set %s to %q): the operator then creates its own with a new password",
			secret.Name, string(secret.Data[UserSecretUsernameKey]), role, UserSecretUsernameKey, role)
	case len(secret.Data[UserSecretPasswordKey]) == 0:
		return fmt.Sprintf("Secret %s has no %q; delete it to let the operator create a new one", secret.Name, UserSecretPasswordKey)
	}
	return ""
}

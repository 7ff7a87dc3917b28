package resources

import (
	"crypto/rand"
	"encoding/base64"

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

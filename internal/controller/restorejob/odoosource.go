package restorejob

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoosource"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// invalidOdooSource checks a live-Odoo source, "" when it is usable.
func invalidOdooSource(src *odoov1alpha2.OdooSource) string {
	switch {
	case src == nil:
		return "source.odoo is required when source.type is odoo"
	case src.URL == "":
		return "source.odoo.url is required: the source Odoo's base URL, for example https://erp.example.com"
	case src.SourceDatabase == "":
		return "source.odoo.sourceDatabase is required: the database to back up on the source Odoo"
	case src.MasterPassword == "" && (src.MasterPasswordSecretRef == nil || src.MasterPasswordSecretRef.Name == ""):
		return "source.odoo.masterPasswordSecretRef is required: the Secret key holding the source Odoo's master password"
	}
	if _, err := odoosource.BaseURL(src.URL); err != nil {
		return "source.odoo.url: " + err.Error()
	}
	return ""
}

// egressRefusal checks a live-Odoo source's URL against the operator's
// egress policy where that is cheap (the scheme, a literal address), ""
// when it passes: the master password goes over https only, unless the
// administrator allows plain http, and never to an internal address the
// administrator did not allow. The Job checks every connection again.
func egressRefusal(rj *odoov1alpha2.OdooRestoreJob, p egress.Policy) string {
	src := rj.Spec.Source
	if src.Type != odoov1alpha2.RestoreSourceOdoo || src.Odoo == nil {
		return ""
	}
	if err := p.CheckURL(src.Odoo.URL, true); err != nil {
		return "source.odoo.url: " + err.Error()
	}
	return ""
}

// withEgress gives the Job of a restore from a live Odoo the operator's
// egress policy, which it enforces on its own connections.
func withEgress(loc resources.BackupLocation, rj *odoov1alpha2.OdooRestoreJob, p egress.Policy) resources.BackupLocation {
	if rj.Spec.Source.Type != odoov1alpha2.RestoreSourceOdoo {
		return loc
	}
	for _, kv := range p.Env() {
		loc.Env = append(loc.Env, corev1ac.EnvVar().WithName(kv[0]).WithValue(kv[1]))
	}
	return loc
}

// odooPasswordSecret is the Secret key the Job reads the source's master
// password from: the user's, or the operator's copy of a legacy plain-text
// masterPassword.
func odooPasswordSecret(rj *odoov1alpha2.OdooRestoreJob) (name, key string) {
	if ref := rj.Spec.Source.Odoo.MasterPasswordSecretRef; ref != nil && ref.Name != "" {
		key = ref.Key
		if key == "" {
			key = resources.OdooSourcePasswordKey
		}
		return ref.Name, key
	}
	return resources.OdooSourceSecretName(rj), resources.OdooSourcePasswordKey
}

// odooPassword makes the master password available to the Job by
// secretKeyRef: it checks the user's Secret, or writes the copy of a legacy
// plain-text password into a Secret the OdooRestoreJob owns. It returns what
// the restore waits for, "" when the Secret is ready.
func (r *Reconciler) odooPassword(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (string, error) {
	name, key := odooPasswordSecret(rj)
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: name}, secret)
	switch {
	case err == nil && len(secret.Data[key]) > 0:
		return "", nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", err
	case rj.Spec.Source.Odoo.MasterPassword == "":
		if err == nil {
			return fmt.Sprintf("the Secret %q has no key %q (source.odoo.masterPasswordSecretRef): add the source Odoo's master password under that key", name, key), nil
		}
		return fmt.Sprintf("waiting for the Secret %q (source.odoo.masterPasswordSecretRef) in namespace %q", name, rj.Namespace), nil
	case err == nil:
		return "", fmt.Errorf("the Secret %q exists without the key %q; delete it and the operator writes it again", name, key)
	}
	copied := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: rj.Namespace, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: odoov1alpha2.GroupVersion.String(), Kind: "OdooRestoreJob", Name: rj.Name, UID: rj.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}}},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{key: []byte(rj.Spec.Source.Odoo.MasterPassword)},
	}
	if err := r.Create(ctx, copied); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("writing the master password Secret %q: %w", name, err)
	}
	return "", nil
}

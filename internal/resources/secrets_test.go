package resources

import (
	"encoding/base64"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestConfSecret(t *testing.T) {
	tests := []struct {
		name string
		conf string
	}{
		{name: "rendered odoo.conf", conf: RenderOdooConf(confInputs(nil))},
		{name: "empty", conf: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance()
			s := convert[corev1.Secret](t, ConfSecret(inst, tt.conf))
			g.Expect(s.Name).To(Equal("shop-odoo-conf"))
			g.Expect(s.Namespace).To(Equal("prod"))
			g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
			g.Expect(s.Labels).To(Equal(Labels(inst, "config")))
			expectOwnedBy(g, s.OwnerReferences, inst)
			g.Expect(s.StringData).To(BeEmpty())
			g.Expect(s.Data).To(HaveLen(1))
			g.Expect(s.Data).To(HaveKey("odoo.conf"))
			g.Expect(string(s.Data["odoo.conf"])).To(Equal(tt.conf))
		})
	}
}

func TestNewUserSecret(t *testing.T) {
	long := strings.Repeat("x", 70)
	tests := []struct {
		name         string
		namespace    string
		instance     string
		wantUsername string
	}{
		{name: "short names keep the reference role", namespace: "prod", instance: "shop", wantUsername: "odoo.prod.shop"},
		{name: "long names get the shortened role", namespace: "prod", instance: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Namespace, i.Name = tt.namespace, tt.instance })
			s := NewUserSecret(inst, "pw-123")
			g.Expect(s.Name).To(Equal(tt.instance + "-odoo-user"))
			g.Expect(s.Namespace).To(Equal(tt.namespace))
			g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
			g.Expect(s.Labels).To(Equal(Labels(inst, "database")))
			expectOwnedBy(g, s.OwnerReferences, inst)
			g.Expect(s.Data).To(HaveLen(2))
			g.Expect(string(s.Data["username"])).To(Equal(RoleName(inst)))
			if tt.wantUsername != "" {
				g.Expect(string(s.Data["username"])).To(Equal(tt.wantUsername))
			}
			g.Expect(len(s.Data["username"])).To(BeNumerically("<=", 63))
			g.Expect(string(s.Data["password"])).To(Equal("pw-123"))
		})
	}
}

func TestNewPassword(t *testing.T) {
	g := NewWithT(t)
	seen := make(map[string]bool, 1000)
	for range 1000 {
		pw, err := NewPassword()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pw).To(HaveLen(43))
		g.Expect(pw).To(MatchRegexp(`^[A-Za-z0-9_-]{43}$`), "URL-safe, unpadded: safe in odoo.conf and connection strings")
		raw, err := base64.RawURLEncoding.DecodeString(pw)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(raw).To(HaveLen(32))
		g.Expect(seen).NotTo(HaveKey(pw))
		seen[pw] = true
	}
	g.Expect(seen).To(HaveLen(1000))
}

func TestCheckUserSecret(t *testing.T) {
	inst := newInstance()
	inst.UID = "uid-1"
	own := func(mutate func(*corev1.Secret)) *corev1.Secret {
		s := NewUserSecret(inst, "pw")
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := []struct {
		name   string
		secret *corev1.Secret
		want   string
	}{
		{name: "the operator's own", secret: own(nil)},
		{name: "the reference operator's (owner reference without controller flag)", secret: own(func(s *corev1.Secret) {
			s.OwnerReferences[0].Controller = nil
		})},
		{name: "another tenant's role", secret: own(func(s *corev1.Secret) {
			s.Data[UserSecretUsernameKey] = []byte("odoo.victim.shop")
		}), want: `names role "odoo.victim.shop", but this instance's role is always "odoo.prod.shop"`},
		{name: "no owner reference (pre-created by the tenant)", secret: own(func(s *corev1.Secret) {
			s.OwnerReferences = nil
		}), want: "was not created by the operator for this OdooInstance"},
		{name: "owner reference to an earlier instance of the same name", secret: own(func(s *corev1.Secret) {
			s.OwnerReferences[0].UID = "uid-0"
		}), want: "no owner reference to its UID uid-1"},
		{name: "owner reference to another kind", secret: own(func(s *corev1.Secret) {
			s.OwnerReferences[0].Kind = "ConfigMap"
		}), want: "was not created by the operator"},
		{name: "no password", secret: own(func(s *corev1.Secret) {
			delete(s.Data, UserSecretPasswordKey)
		}), want: `has no "password"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := CheckUserSecret(inst, tt.secret)
			if tt.want == "" {
				g.Expect(got).To(BeEmpty())
				return
			}
			g.Expect(got).To(ContainSubstring(tt.want))
			g.Expect(got).NotTo(ContainSubstring("pw\""))
		})
	}
}

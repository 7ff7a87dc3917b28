package conversion

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestEnvironmentIsAHubField: the legacy spec.environment becomes the hub's
// spec.environment (a restore reads it to decide on neutralize), not a
// stashed spoke-only value, and comes back unchanged.
func TestEnvironmentIsAHubField(t *testing.T) {
	for _, env := range []string{"Production", "Staging", ""} {
		g := NewWithT(t)
		legacy := readExample(t)
		legacy.Spec.Environment = env
		hub := toHub(t, legacy)
		g.Expect(hub.Spec.Environment).To(Equal(odoov1alpha2.Environment(env)))
		if raw, ok := hub.Annotations[DataAnnotation]; ok {
			g.Expect(raw).NotTo(ContainSubstring("environment"), "not stashed")
		}
		g.Expect(toV1(t, hub).Spec.Environment).To(Equal(env))
		g.Expect(toV1alpha1(t, hub).Spec.Environment).To(Equal(env))

		hub.Spec.Environment = odoov1alpha2.EnvironmentProduction
		back := toV1(t, hub)
		g.Expect(back.Spec.Environment).To(Equal("Production"), "a change through the hub reaches the legacy field")
		if raw, ok := back.Annotations[DataAnnotation]; ok {
			g.Expect(strings.Contains(raw, "environment")).To(BeFalse(), "not stashed on the spoke: %s", raw)
		}
	}
}

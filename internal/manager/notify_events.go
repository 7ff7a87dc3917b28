package manager

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/notify"
)

// notificationEvents records a Warning event on the instance of each
// notification that failed for good, so its owner sees why (an egress
// refusal, a receiver answering 4xx). The error names the URL as
// scheme://host only.
func notificationEvents(rec recorder.EventRecorder) func(notify.Result) {
	return func(res notify.Result) {
		if res.Outcome != notify.OutcomeFailed || res.Err == nil || rec == nil {
			return
		}
		inst := &odoov1alpha2.OdooInstance{}
		inst.Namespace, inst.Name, inst.UID = res.Instance.Namespace, res.Instance.Name, types.UID(res.Instance.UID)
		inst.APIVersion, inst.Kind = odoov1alpha2.GroupVersion.String(), "OdooInstance"
		rec.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventNotificationFailed, "Notify",
			"notification %s (%s) not delivered: %s", res.ID, res.Type, res.Err.Error())
	}
}

package odooinstance

import (
	"errors"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// fakeDeployment describes the observed state of a Deployment.
type fakeDeployment struct {
	name                                string
	generation, observed                int64
	replicas, updated, ready, available int32
	image                               string
	deadlineExceeded                    bool
	progressingFalseReason, deadlineMsg string
}

func (d fakeDeployment) build() *appsv1.Deployment {
	out := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: d.name, Namespace: "prod", Generation: d.generation},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "odoo", Image: d.image}},
		}}},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: d.observed, Replicas: d.replicas, UpdatedReplicas: d.updated,
			ReadyReplicas: d.ready, AvailableReplicas: d.available,
		},
	}
	reason := d.progressingFalseReason
	if d.deadlineExceeded {
		reason = "ProgressDeadlineExceeded"
	}
	if reason != "" {
		out.Status.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: reason, Message: d.deadlineMsg},
		}
	}
	return out
}

// settledDeployment is a Deployment whose n replicas all run the current template.
func settledDeployment(name string, n int32, image string) *appsv1.Deployment {
	return fakeDeployment{name: name, generation: 2, observed: 2, replicas: n, updated: n, ready: n, available: n, image: image}.build()
}

func TestDeploymentState(t *testing.T) {
	tests := []struct {
		name        string
		d           *appsv1.Deployment
		desired     int32
		wantOK      bool
		wantReason  string
		wantMessage string
	}{
		{name: "nil", d: nil, desired: 1,
			wantReason: odoov1alpha2.ReasonReconciling, wantMessage: "the Deployment does not exist yet"},
		{name: "generation not observed", desired: 1,
			d:          fakeDeployment{name: "shop", generation: 3, observed: 2, replicas: 1, updated: 1, ready: 1, available: 1}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: waiting for the Deployment controller to observe generation 3"},
		{name: "generation not observed while scaled to 0", desired: 0,
			d:          fakeDeployment{name: "shop", generation: 3, observed: 2}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: waiting for the Deployment controller to observe generation 3"},
		{name: "progress deadline exceeded", desired: 2,
			d: fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 1, ready: 2, available: 2,
				deadlineExceeded: true, deadlineMsg: `ReplicaSet "shop-7d9" has timed out progressing.`}.build(),
			wantReason: odoov1alpha2.ReasonProgressDeadlineExceeded, wantMessage: `Deployment shop: ReplicaSet "shop-7d9" has timed out progressing.`},
		{name: "progress deadline exceeded wins over scaled to 0", desired: 0,
			d: fakeDeployment{name: "shop", generation: 2, observed: 2,
				deadlineExceeded: true, deadlineMsg: "timed out"}.build(),
			wantReason: odoov1alpha2.ReasonProgressDeadlineExceeded, wantMessage: "Deployment shop: timed out"},
		{name: "another Progressing=False reason is not a deadline", desired: 1,
			d: fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 1, updated: 1, ready: 1, available: 1,
				progressingFalseReason: "ReplicaSetCreateError"}.build(),
			wantOK: true, wantReason: odoov1alpha2.ReasonAvailable, wantMessage: "Deployment shop: 1 of 1 pods available"},
		{name: "desired 0 with pods left", desired: 0,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 2, updated: 2, ready: 1, available: 1}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 2 pods still terminating"},
		{name: "desired 0 and no pod", desired: 0,
			d:      fakeDeployment{name: "shop", generation: 2, observed: 2}.build(),
			wantOK: true, wantReason: odoov1alpha2.ReasonScaledToZero, wantMessage: "Deployment shop is scaled to 0"},
		{name: "fewer updated", desired: 3,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 1, ready: 3, available: 3}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 1 of 3 pods updated"},
		{name: "old pods terminating", desired: 2,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 2, ready: 3, available: 3}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 1 old pods terminating"},
		{name: "fewer available", desired: 2,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 2, updated: 2, ready: 1, available: 1}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 1 of 2 pods available"},
		{name: "one pod short of updated", desired: 3,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 2, ready: 3, available: 3}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 2 of 3 pods updated"},
		{name: "one pod short of available", desired: 3,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 3, ready: 2, available: 2}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 2 of 3 pods available"},
		{name: "scaling up: too few pods yet", desired: 3,
			d:          fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 1, updated: 1, ready: 1, available: 1}.build(),
			wantReason: odoov1alpha2.ReasonRollingOut, wantMessage: "Deployment shop: 1 of 3 pods updated"},
		{name: "all available", desired: 2,
			d:      settledDeployment("shop", 2, "odoo:18.0"),
			wantOK: true, wantReason: odoov1alpha2.ReasonAvailable, wantMessage: "Deployment shop: 2 of 2 pods available"},
		{name: "cron, all available", desired: 1,
			d:      settledDeployment("shop-cron", 1, "odoo:18.0"),
			wantOK: true, wantReason: odoov1alpha2.ReasonAvailable, wantMessage: "Deployment shop-cron: 1 of 1 pods available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ok, reason, message := deploymentState(tt.d, tt.desired)
			g.Expect(ok).To(Equal(tt.wantOK))
			g.Expect(reason).To(Equal(tt.wantReason))
			g.Expect(message).To(Equal(tt.wantMessage))
		})
	}
}

const (
	testWebImage  = "registry.example.com/shop/odoo:18.0.2"
	testCronImage = "registry.example.com/shop/odoo:18.0.2"
)

// statusInstance is an instance at generation 4, last reconciled at 3.
func statusInstance(mutate ...func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod", Generation: 4},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image:    testWebImage,
			Replicas: ptr.To[int32](2),
			Ingress:  &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com", "www.shop.example.com"}},
		},
		Status: odoov1alpha2.OdooInstanceStatus{ObservedGeneration: 3},
	}
	for _, m := range mutate {
		m(inst)
	}
	return inst
}

// wantCond is the expected status, reason and (when not empty) message of a condition.
type wantCond struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

func expectConditions(g Gomega, status odoov1alpha2.OdooInstanceStatus, gen int64, want map[string]*wantCond) {
	for typ, w := range want {
		c := meta.FindStatusCondition(status.Conditions, typ)
		if w == nil {
			g.Expect(c).To(BeNil(), "condition %s should be absent", typ)
			continue
		}
		g.Expect(c).NotTo(BeNil(), "condition %s", typ)
		g.Expect(c.Status).To(Equal(w.status), "%s status", typ)
		g.Expect(c.Reason).To(Equal(w.reason), "%s reason", typ)
		if w.message != "" {
			g.Expect(c.Message).To(Equal(w.message), "%s message", typ)
		}
		g.Expect(c.Message).NotTo(BeEmpty(), "%s message", typ)
		g.Expect(c.ObservedGeneration).To(Equal(gen), "%s observedGeneration", typ)
		g.Expect(c.LastTransitionTime.IsZero()).To(BeFalse(), "%s lastTransitionTime", typ)
	}
}

func TestComputeStatus(t *testing.T) {
	const (
		T, F = metav1.ConditionTrue, metav1.ConditionFalse
	)
	deadline := fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 1, ready: 2, available: 2, image: testWebImage,
		deadlineExceeded: true, deadlineMsg: `ReplicaSet "shop-7d9" has timed out progressing.`}
	tests := []struct {
		name       string
		inst       *odoov1alpha2.OdooInstance
		in         statusInputs
		wantPhase  odoov1alpha2.Phase
		wantReady  int32
		wantObsGen int64
		want       map[string]*wantCond
	}{
		{
			name:      "web and cron available",
			inst:      statusInstance(),
			in:        statusInputs{web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage)},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {T, odoov1alpha2.ReasonAvailable, "2 web and 1 cron pods available"},
				odoov1alpha2.ConditionProgressing:   {F, odoov1alpha2.ReasonReconciled, ""},
				odoov1alpha2.ConditionDegraded:      {F, odoov1alpha2.ReasonAsExpected, ""},
				odoov1alpha2.ConditionStalled:       nil,
				odoov1alpha2.ConditionWebAvailable:  {T, odoov1alpha2.ReasonAvailable, "Deployment shop: 2 of 2 pods available"},
				odoov1alpha2.ConditionCronAvailable: {T, odoov1alpha2.ReasonAvailable, "Deployment shop-cron: 1 of 1 pods available"},
			},
		},
		{
			name: "web rolling out but serving",
			inst: statusInstance(),
			in: statusInputs{
				web:  fakeDeployment{name: "shop", generation: 2, observed: 2, replicas: 3, updated: 1, ready: 2, available: 2, image: testWebImage}.build(),
				cron: settledDeployment("shop-cron", 1, testCronImage),
			},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {F, odoov1alpha2.ReasonRollingOut, "Deployment shop: 1 of 2 pods updated"},
				odoov1alpha2.ConditionProgressing:   {T, odoov1alpha2.ReasonRollingOut, "Deployment shop: 1 of 2 pods updated"},
				odoov1alpha2.ConditionDegraded:      {F, odoov1alpha2.ReasonAsExpected, ""},
				odoov1alpha2.ConditionWebAvailable:  {F, odoov1alpha2.ReasonRollingOut, ""},
				odoov1alpha2.ConditionCronAvailable: {T, odoov1alpha2.ReasonAvailable, ""},
			},
		},
		{
			name: "cron rolling out, web available",
			inst: statusInstance(),
			in: statusInputs{
				web:  settledDeployment("shop", 2, testWebImage),
				cron: fakeDeployment{name: "shop-cron", generation: 5, observed: 4, replicas: 1, updated: 1, ready: 1, available: 1, image: testCronImage}.build(),
			},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {F, odoov1alpha2.ReasonRollingOut, "Deployment shop-cron: waiting for the Deployment controller to observe generation 5"},
				odoov1alpha2.ConditionProgressing:   {T, odoov1alpha2.ReasonRollingOut, ""},
				odoov1alpha2.ConditionWebAvailable:  {T, odoov1alpha2.ReasonAvailable, ""},
				odoov1alpha2.ConditionCronAvailable: {F, odoov1alpha2.ReasonRollingOut, ""},
			},
		},
		{
			name:      "nothing created yet",
			inst:      statusInstance(),
			in:        statusInputs{},
			wantPhase: odoov1alpha2.PhasePending, wantReady: 0, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {F, odoov1alpha2.ReasonReconciling, "the Deployment does not exist yet"},
				odoov1alpha2.ConditionProgressing:   {T, odoov1alpha2.ReasonReconciling, ""},
				odoov1alpha2.ConditionDegraded:      {F, odoov1alpha2.ReasonAsExpected, ""},
				odoov1alpha2.ConditionWebAvailable:  {F, odoov1alpha2.ReasonReconciling, ""},
				odoov1alpha2.ConditionCronAvailable: {F, odoov1alpha2.ReasonReconciling, ""},
			},
		},
		{
			name: "no pod ready yet",
			inst: statusInstance(),
			in: statusInputs{
				web:  fakeDeployment{name: "shop", generation: 1, observed: 1, replicas: 2, updated: 2, image: testWebImage}.build(),
				cron: fakeDeployment{name: "shop-cron", generation: 1, observed: 1, replicas: 1, updated: 1, image: testCronImage}.build(),
			},
			wantPhase: odoov1alpha2.PhasePending, wantReady: 0, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:       {F, odoov1alpha2.ReasonRollingOut, "Deployment shop: 0 of 2 pods available"},
				odoov1alpha2.ConditionProgressing: {T, odoov1alpha2.ReasonRollingOut, ""},
			},
		},
		{
			name: "web scaled to 0 and settled",
			inst: statusInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To[int32](0) }),
			in: statusInputs{
				web:  fakeDeployment{name: "shop", generation: 3, observed: 3, image: testWebImage}.build(),
				cron: settledDeployment("shop-cron", 1, testCronImage),
			},
			wantPhase: odoov1alpha2.PhaseStopped, wantReady: 0, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {T, odoov1alpha2.ReasonAvailable, "0 web and 1 cron pods available"},
				odoov1alpha2.ConditionProgressing:   {F, odoov1alpha2.ReasonReconciled, ""},
				odoov1alpha2.ConditionDegraded:      {F, odoov1alpha2.ReasonAsExpected, ""},
				odoov1alpha2.ConditionWebAvailable:  {F, odoov1alpha2.ReasonScaledToZero, "Deployment shop is scaled to 0"},
				odoov1alpha2.ConditionCronAvailable: {T, odoov1alpha2.ReasonAvailable, ""},
			},
		},
		{
			name: "web scaled to 0, pods still terminating",
			inst: statusInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To[int32](0) }),
			in: statusInputs{
				web:  fakeDeployment{name: "shop", generation: 3, observed: 3, replicas: 2, updated: 2, ready: 1, available: 1, image: testWebImage}.build(),
				cron: settledDeployment("shop-cron", 1, testCronImage),
			},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: 1, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:        {F, odoov1alpha2.ReasonRollingOut, "Deployment shop: 2 pods still terminating"},
				odoov1alpha2.ConditionProgressing:  {T, odoov1alpha2.ReasonRollingOut, ""},
				odoov1alpha2.ConditionWebAvailable: {F, odoov1alpha2.ReasonRollingOut, ""},
			},
		},
		{
			name: "web stopped, cron rolling out: Ready explains the cron, not the stop",
			inst: statusInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To[int32](0) }),
			in: statusInputs{
				web:  fakeDeployment{name: "shop", generation: 3, observed: 3, image: testWebImage}.build(),
				cron: fakeDeployment{name: "shop-cron", generation: 3, observed: 3, replicas: 1, updated: 0, image: testCronImage}.build(),
			},
			wantReady: 0, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {F, odoov1alpha2.ReasonRollingOut, "Deployment shop-cron: 0 of 1 pods updated"},
				odoov1alpha2.ConditionProgressing:   {T, odoov1alpha2.ReasonRollingOut, "Deployment shop-cron: 0 of 1 pods updated"},
				odoov1alpha2.ConditionWebAvailable:  {F, odoov1alpha2.ReasonScaledToZero, ""},
				odoov1alpha2.ConditionCronAvailable: {F, odoov1alpha2.ReasonRollingOut, ""},
			},
		},
		{
			name: "cron paused, web available",
			inst: statusInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Cron.Replicas = ptr.To[int32](0) }),
			in: statusInputs{
				web:  settledDeployment("shop", 2, testWebImage),
				cron: fakeDeployment{name: "shop-cron", generation: 2, observed: 2, image: testCronImage}.build(),
			},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionReady:         {T, odoov1alpha2.ReasonAvailable, "2 web and 0 cron pods available"},
				odoov1alpha2.ConditionProgressing:   {F, odoov1alpha2.ReasonReconciled, ""},
				odoov1alpha2.ConditionCronAvailable: {F, odoov1alpha2.ReasonScaledToZero, ""},
			},
		},
		{
			name: "stalled",
			inst: statusInstance(),
			in: statusInputs{
				web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage),
				stalled: &problem{odoov1alpha2.ReasonAdminPasswordSecretMissing, `Secret "master" not found`},
			},
			wantPhase: odoov1alpha2.PhaseFailed, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionStalled:     {T, odoov1alpha2.ReasonAdminPasswordSecretMissing, `Secret "master" not found`},
				odoov1alpha2.ConditionReady:       {F, odoov1alpha2.ReasonAdminPasswordSecretMissing, `Secret "master" not found`},
				odoov1alpha2.ConditionProgressing: {F, odoov1alpha2.ReasonReconciled, ""},
				odoov1alpha2.ConditionDegraded:    {F, odoov1alpha2.ReasonAsExpected, ""},
			},
		},
		{
			name: "stalled and degraded: Failed wins",
			inst: statusInstance(),
			in: statusInputs{
				stalled:  &problem{odoov1alpha2.ReasonAdminPasswordSecretMissing, "no secret"},
				degraded: []problem{{"FilestoreShrinkRefused", "cannot shrink"}},
			},
			wantPhase: odoov1alpha2.PhaseFailed, wantReady: 0, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionStalled:     {T, odoov1alpha2.ReasonAdminPasswordSecretMissing, "no secret"},
				odoov1alpha2.ConditionDegraded:    {T, "FilestoreShrinkRefused", "cannot shrink"},
				odoov1alpha2.ConditionReady:       {F, odoov1alpha2.ReasonAdminPasswordSecretMissing, "no secret"},
				odoov1alpha2.ConditionProgressing: {F, odoov1alpha2.ReasonReconciled, ""},
			},
		},
		{
			name: "degraded problem",
			inst: statusInstance(),
			in: statusInputs{
				web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage),
				degraded: []problem{{"FilestoreShrinkRefused", "spec.filestore.storageSize 1Gi is below the volume's 5Gi"}},
			},
			wantPhase: odoov1alpha2.PhaseDegraded, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionDegraded:    {T, "FilestoreShrinkRefused", "spec.filestore.storageSize 1Gi is below the volume's 5Gi"},
				odoov1alpha2.ConditionReady:       {F, "FilestoreShrinkRefused", "spec.filestore.storageSize 1Gi is below the volume's 5Gi"},
				odoov1alpha2.ConditionProgressing: {T, "FilestoreShrinkRefused", "spec.filestore.storageSize 1Gi is below the volume's 5Gi"},
				odoov1alpha2.ConditionStalled:     nil,
			},
		},
		{
			name: "reconcile error: degraded, generation not observed",
			inst: statusInstance(),
			in: statusInputs{
				web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage),
				reconcileErr: errors.New("web Deployment: apply: connection refused"),
			},
			wantPhase: odoov1alpha2.PhaseDegraded, wantReady: 2, wantObsGen: 3,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionDegraded: {T, odoov1alpha2.ReasonApplyFailed, "web Deployment: apply: connection refused"},
				odoov1alpha2.ConditionReady:    {F, odoov1alpha2.ReasonApplyFailed, "web Deployment: apply: connection refused"},
			},
		},
		{
			name: "several problems: first reason, all messages",
			inst: statusInstance(),
			in: statusInputs{
				web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage),
				degraded:     []problem{{"FilestoreClassChangePending", "class drift"}, {"FilestoreShrinkRefused", "cannot shrink"}},
				reconcileErr: errors.New("boom"),
			},
			wantPhase: odoov1alpha2.PhaseDegraded, wantReady: 2, wantObsGen: 3,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionDegraded: {T, "FilestoreClassChangePending", "class drift; cannot shrink; boom"},
			},
		},
		{
			name:      "progress deadline exceeded",
			inst:      statusInstance(),
			in:        statusInputs{web: deadline.build(), cron: settledDeployment("shop-cron", 1, testCronImage)},
			wantPhase: odoov1alpha2.PhaseDegraded, wantReady: 2, wantObsGen: 4,
			want: map[string]*wantCond{
				odoov1alpha2.ConditionDegraded:     {T, odoov1alpha2.ReasonProgressDeadlineExceeded, `Deployment shop: ReplicaSet "shop-7d9" has timed out progressing.`},
				odoov1alpha2.ConditionWebAvailable: {F, odoov1alpha2.ReasonProgressDeadlineExceeded, ""},
				odoov1alpha2.ConditionReady:        {F, odoov1alpha2.ReasonProgressDeadlineExceeded, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			before := tt.inst.DeepCopy()
			in := tt.in
			in.instance = tt.inst
			status := computeReady(in)

			g.Expect(tt.inst).To(Equal(before), "computeStatus must not modify the instance")
			if tt.wantPhase != "" {
				g.Expect(status.Phase).To(Equal(tt.wantPhase))
			}
			g.Expect(status.ReadyReplicas).To(Equal(tt.wantReady))
			g.Expect(status.ObservedGeneration).To(Equal(tt.wantObsGen))
			g.Expect(status.URL).To(Equal("https://shop.example.com"))
			g.Expect(status.Selector).To(Equal("app=shop"))
			expectConditions(g, status, 4, tt.want)
			for _, c := range status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(int64(4)), c.Type)
			}
		})
	}
}

func TestComputeStatusWithoutIngress(t *testing.T) {
	g := NewWithT(t)
	inst := statusInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Name = "crm"
		i.Spec.Ingress = nil
	})
	inst.Status.URL = "https://stale.example.com"
	status := computeReady(statusInputs{instance: inst, web: settledDeployment("crm", 2, testWebImage), cron: settledDeployment("crm-cron", 1, testCronImage)})
	g.Expect(status.URL).To(BeEmpty())
	g.Expect(status.Selector).To(Equal("app=crm"))
}

func TestComputeStatusImages(t *testing.T) {
	rolling := func(name, image string) *appsv1.Deployment {
		return fakeDeployment{name: name, generation: 3, observed: 3, replicas: 3, updated: 1, ready: 2, available: 2, image: image}.build()
	}
	tests := []struct {
		name         string
		before       odoov1alpha2.DeploymentStatus
		web, cron    *appsv1.Deployment
		wantCurrent  string
		wantPrevious string
		wantCron     string
	}{
		{
			name:   "first rollout settles",
			before: odoov1alpha2.DeploymentStatus{},
			web:    settledDeployment("shop", 2, "odoo:18.0"), cron: settledDeployment("shop-cron", 1, "odoo:18.0"),
			wantCurrent: "odoo:18.0", wantPrevious: "", wantCron: "odoo:18.0",
		},
		{
			name:   "not recorded before the first rollout settles",
			before: odoov1alpha2.DeploymentStatus{},
			web:    rolling("shop", "odoo:18.0"), cron: rolling("shop-cron", "odoo:18.0"),
			wantCurrent: "", wantPrevious: "", wantCron: "",
		},
		{
			name:   "new image settles: the old one becomes previous",
			before: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:17.0", PreviousImage: "odoo:16.0", CronImage: "odoo:17.0"},
			web:    settledDeployment("shop", 2, "odoo:18.0"), cron: settledDeployment("shop-cron", 1, "odoo:18.0"),
			wantCurrent: "odoo:18.0", wantPrevious: "odoo:17.0", wantCron: "odoo:18.0",
		},
		{
			name:   "new image rolling out: nothing changes",
			before: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:17.0", PreviousImage: "odoo:16.0", CronImage: "odoo:17.0"},
			web:    rolling("shop", "odoo:18.0"), cron: rolling("shop-cron", "odoo:18.0"),
			wantCurrent: "odoo:17.0", wantPrevious: "odoo:16.0", wantCron: "odoo:17.0",
		},
		{
			name:   "same image settled again: previous is kept",
			before: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:18.0", PreviousImage: "odoo:17.0", CronImage: "odoo:18.0"},
			web:    settledDeployment("shop", 2, "odoo:18.0"), cron: settledDeployment("shop-cron", 1, "odoo:18.0"),
			wantCurrent: "odoo:18.0", wantPrevious: "odoo:17.0", wantCron: "odoo:18.0",
		},
		{
			name:   "web settles while cron still rolls",
			before: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:17.0", CronImage: "odoo:17.0"},
			web:    settledDeployment("shop", 2, "odoo:18.0"), cron: rolling("shop-cron", "odoo:18.0"),
			wantCurrent: "odoo:18.0", wantPrevious: "odoo:17.0", wantCron: "odoo:17.0",
		},
		{
			name:   "cron runs its own image",
			before: odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:18.0"},
			web:    settledDeployment("shop", 2, "odoo:18.0"), cron: settledDeployment("shop-cron", 1, "odoo:18.0-cron"),
			wantCurrent: "odoo:18.0", wantPrevious: "", wantCron: "odoo:18.0-cron",
		},
		{
			name:        "no odoo container: nothing recorded",
			before:      odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:17.0", CronImage: "odoo:17.0"},
			web:         renameContainers(settledDeployment("shop", 2, "odoo:18.0"), "sidecar"),
			cron:        renameContainers(settledDeployment("shop-cron", 1, "odoo:18.0"), "sidecar"),
			wantCurrent: "odoo:17.0", wantPrevious: "", wantCron: "odoo:17.0",
		},
		{
			name:        "Deployments missing",
			before:      odoov1alpha2.DeploymentStatus{CurrentImage: "odoo:17.0", PreviousImage: "odoo:16.0", CronImage: "odoo:17.0"},
			wantCurrent: "odoo:17.0", wantPrevious: "odoo:16.0", wantCron: "odoo:17.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := statusInstance()
			inst.Status.Deployment = tt.before
			status := computeReady(statusInputs{instance: inst, web: tt.web, cron: tt.cron})
			g.Expect(status.Deployment.CurrentImage).To(Equal(tt.wantCurrent), "currentImage")
			g.Expect(status.Deployment.PreviousImage).To(Equal(tt.wantPrevious), "previousImage")
			g.Expect(status.Deployment.CronImage).To(Equal(tt.wantCron), "testCronImage")
			g.Expect(inst.Status.Deployment).To(Equal(tt.before), "the instance is not modified")
		})
	}
}

// renameContainers renames every container of d, e.g. to play a Deployment
// edited by hand.
func renameContainers(d *appsv1.Deployment, name string) *appsv1.Deployment {
	for i := range d.Spec.Template.Spec.Containers {
		d.Spec.Template.Spec.Containers[i].Name = name
	}
	return d
}

func TestComputeStatusKeepsOtherFields(t *testing.T) {
	g := NewWithT(t)
	inst := statusInstance()
	backup := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Cluster: "main", Name: "prod_shop", Initialized: true}
	inst.Status.LastBackup = &backup
	inst.Status.Conditions = []metav1.Condition{{Type: "ModulesInstalled", Status: metav1.ConditionTrue, Reason: "Done", Message: "ok",
		LastTransitionTime: backup, ObservedGeneration: 2}}
	status := computeReady(statusInputs{instance: inst, web: settledDeployment("shop", 2, testWebImage), cron: settledDeployment("shop-cron", 1, testCronImage)})
	g.Expect(status.Database).To(Equal(inst.Status.Database))
	g.Expect(status.LastBackup).To(Equal(&backup))
	g.Expect(meta.FindStatusCondition(status.Conditions, "ModulesInstalled")).To(HaveValue(Equal(inst.Status.Conditions[0])))
}

func TestComputeStatusLastTransitionTime(t *testing.T) {
	t0 := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	at := func(typ string, s metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: "old message", ObservedGeneration: 3, LastTransitionTime: t0}
	}
	settledConditions := []metav1.Condition{
		at(odoov1alpha2.ConditionReady, metav1.ConditionTrue, odoov1alpha2.ReasonAvailable),
		at(odoov1alpha2.ConditionProgressing, metav1.ConditionFalse, odoov1alpha2.ReasonReconciled),
		at(odoov1alpha2.ConditionDegraded, metav1.ConditionFalse, odoov1alpha2.ReasonAsExpected),
		at(odoov1alpha2.ConditionWebAvailable, metav1.ConditionTrue, odoov1alpha2.ReasonAvailable),
		at(odoov1alpha2.ConditionCronAvailable, metav1.ConditionTrue, odoov1alpha2.ReasonAvailable),
		at(odoov1alpha2.ConditionDatabaseReady, metav1.ConditionTrue, odoov1alpha2.ReasonDatabaseReady),
	}
	tests := []struct {
		name        string
		before      []metav1.Condition
		web         *appsv1.Deployment
		wantChanged []string // conditions whose lastTransitionTime moves
		wantGone    []string
	}{
		{
			name:   "nothing changes status: every time is kept",
			before: settledConditions,
			web:    settledDeployment("shop", 2, testWebImage),
		},
		{
			name:        "web starts rolling: Ready, Progressing and WebAvailable move",
			before:      settledConditions,
			web:         fakeDeployment{name: "shop", generation: 3, observed: 3, replicas: 3, updated: 1, ready: 2, available: 2, image: testWebImage}.build(),
			wantChanged: []string{odoov1alpha2.ConditionReady, odoov1alpha2.ConditionProgressing, odoov1alpha2.ConditionWebAvailable},
		},
		{
			name: "stall cleared: Stalled removed, Ready moves",
			before: append([]metav1.Condition{
				at(odoov1alpha2.ConditionStalled, metav1.ConditionTrue, odoov1alpha2.ReasonAdminPasswordSecretMissing),
				at(odoov1alpha2.ConditionReady, metav1.ConditionFalse, odoov1alpha2.ReasonAdminPasswordSecretMissing),
			}, settledConditions[1:]...),
			web:         settledDeployment("shop", 2, testWebImage),
			wantChanged: []string{odoov1alpha2.ConditionReady},
			wantGone:    []string{odoov1alpha2.ConditionStalled},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := statusInstance()
			inst.Status.Conditions = append([]metav1.Condition(nil), tt.before...)
			status := computeReady(statusInputs{instance: inst, web: tt.web, cron: settledDeployment("shop-cron", 1, testCronImage)})
			g.Expect(inst.Status.Conditions).To(Equal(tt.before), "computeStatus must not modify the instance's conditions")
			for _, typ := range tt.wantGone {
				g.Expect(meta.FindStatusCondition(status.Conditions, typ)).To(BeNil(), typ)
			}
			for _, c := range status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(int64(4)), "%s is stamped with the new generation", c.Type)
				if slices.Contains(tt.wantChanged, c.Type) {
					g.Expect(c.LastTransitionTime.After(t0.Time)).To(BeTrue(), "%s lastTransitionTime should move", c.Type)
				} else {
					g.Expect(c.LastTransitionTime).To(Equal(t0), "%s lastTransitionTime should be kept", c.Type)
				}
			}
			// The messages are refreshed even when the status is kept.
			g.Expect(meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionDegraded).Message).To(Equal("no problem found"))
		})
	}
}

func TestDerivePhase(t *testing.T) {
	c := func(typ string, s metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: "Test"}
	}
	T, F := metav1.ConditionTrue, metav1.ConditionFalse
	tests := []struct {
		name          string
		conditions    []metav1.Condition
		readyReplicas int32
		webReplicas   int32
		want          odoov1alpha2.Phase
	}{
		{name: "no condition", webReplicas: 1, want: odoov1alpha2.PhasePending},
		{name: "stalled wins over everything",
			conditions: []metav1.Condition{c("Stalled", T), c("Degraded", T), c("Ready", T)}, readyReplicas: 2, webReplicas: 2,
			want: odoov1alpha2.PhaseFailed},
		{name: "degraded wins over ready",
			conditions: []metav1.Condition{c("Stalled", F), c("Degraded", T), c("Ready", T)}, readyReplicas: 2, webReplicas: 2,
			want: odoov1alpha2.PhaseDegraded},
		{name: "degraded wins over stopped",
			conditions: []metav1.Condition{c("Degraded", T), c("Ready", T)}, webReplicas: 0,
			want: odoov1alpha2.PhaseDegraded},
		{name: "ready with web stopped",
			conditions: []metav1.Condition{c("Degraded", F), c("Ready", T)}, webReplicas: 0,
			want: odoov1alpha2.PhaseStopped},
		{name: "ready",
			conditions: []metav1.Condition{c("Degraded", F), c("Ready", T)}, readyReplicas: 1, webReplicas: 1,
			want: odoov1alpha2.PhaseRunning},
		{name: "not ready but serving",
			conditions: []metav1.Condition{c("Degraded", F), c("Ready", F)}, readyReplicas: 1, webReplicas: 3,
			want: odoov1alpha2.PhaseRunning},
		{name: "not ready, nothing serving",
			conditions: []metav1.Condition{c("Stalled", F), c("Degraded", F), c("Ready", F)}, webReplicas: 1,
			want: odoov1alpha2.PhasePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := statusInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To(tt.webReplicas) })
			status := &odoov1alpha2.OdooInstanceStatus{Conditions: tt.conditions, ReadyReplicas: tt.readyReplicas}
			g.Expect(derivePhase(status, inst, nil)).To(Equal(tt.want))
		})
	}
}

// computeReady computes the status of an instance whose database phases ran
// and found an initialised database, unless the case says otherwise.
func computeReady(in statusInputs) odoov1alpha2.OdooInstanceStatus {
	if in.database == nil {
		in.database = &databaseState{cluster: "main", name: "prod_shop", initialized: true}
	}
	return computeStatus(in)
}

func TestComputeStatusDatabase(t *testing.T) {
	tests := []struct {
		name       string
		db         *databaseState
		hold       bool
		wantPhase  odoov1alpha2.Phase
		wantReady  metav1.ConditionStatus
		wantDB     metav1.ConditionStatus
		wantReason string
		wantLegacy bool
	}{
		{name: "initialised", db: &databaseState{cluster: "main", name: "db", initialized: true},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionTrue, wantDB: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonDatabaseReady},
		{name: "init Job running, tiers held at 0", db: &databaseState{cluster: "main", name: "db", init: initRunning, initJob: "shop-init-1"}, hold: true,
			wantPhase: odoov1alpha2.PhaseInitializing, wantReady: metav1.ConditionFalse, wantDB: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonInitializing},
		{name: "init Job failed", db: &databaseState{cluster: "main", name: "db", init: initFailed, initJob: "shop-init-1"}, hold: true,
			wantPhase: odoov1alpha2.PhaseInitializing, wantReady: metav1.ConditionFalse, wantDB: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonInitFailed},
		{name: "database unusable after init", db: &databaseState{cluster: "main", name: "db", initialized: true, problem: true},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionFalse, wantDB: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonDatabaseError},
		{name: "legacy connection", db: &databaseState{cluster: "legacy", name: "db", initialized: true, legacy: true, legacyMessage: "create the clusters Secret"},
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionTrue, wantDB: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonDatabaseReady, wantLegacy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := statusInstance()
			web, cron := settledDeployment("shop", 2, testWebImage), settledDeployment("shop-cron", 1, testCronImage)
			if tt.hold {
				web, cron = scaledToZero("shop"), scaledToZero("shop-cron")
			}
			status := computeStatus(statusInputs{instance: inst, web: web, cron: cron, hold: tt.hold, database: tt.db})
			g.Expect(status.Phase).To(Equal(tt.wantPhase))
			g.Expect(meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionReady).Status).To(Equal(tt.wantReady))
			c := meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionDatabaseReady)
			g.Expect(c.Status).To(Equal(tt.wantDB))
			g.Expect(c.Reason).To(Equal(tt.wantReason))
			g.Expect(meta.IsStatusConditionTrue(status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection)).To(Equal(tt.wantLegacy))
			g.Expect(status.Database).NotTo(BeNil())
			g.Expect(status.Database.Name).To(Equal(tt.db.name))
			g.Expect(status.Database.Cluster).To(Equal(tt.db.cluster))
			g.Expect(status.Database.Initialized).To(Equal(tt.db.initialized))
		})
	}
}

// scaledToZero is a Deployment held at 0 replicas with no pod left.
func scaledToZero(name string) *appsv1.Deployment {
	return fakeDeployment{name: name, generation: 2, observed: 2, image: testWebImage}.build()
}

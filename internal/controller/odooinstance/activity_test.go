package odooinstance

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

const brokenImage = "registry.example.com/shop/odoo:18.0.3-broken"

// TestPhaseAndReady: the phase names what the instance is busy with (from
// status.operation, else from the older signals), and Ready is never True
// while no web pod serves although spec.replicas asks for some.
func TestPhaseAndReady(t *testing.T) {
	op := func(kind odoov1alpha2.OperationKind) func(*odoov1alpha2.OdooInstance) {
		return func(i *odoov1alpha2.OdooInstance) {
			i.Status.Operation = &odoov1alpha2.OperationStatus{Kind: kind, Name: "shop", Step: "Running", Started: metav1.Unix(1, 0)}
		}
	}
	upgradeAt := func(step odoov1alpha2.UpgradeStep) func(*odoov1alpha2.OdooInstance) {
		return func(i *odoov1alpha2.OdooInstance) {
			i.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: step, FromImage: testWebImage, ImageAttempted: brokenImage}
		}
	}
	restoreHold := func(i *odoov1alpha2.OdooInstance) {
		i.Annotations = map[string]string{odoov1alpha2.AnnotationRestoreHold: "restore-1"}
	}
	copying := func(i *odoov1alpha2.OdooInstance) {
		i.Status.Filestore = &odoov1alpha2.FilestoreStatus{Migration: &odoov1alpha2.FilestoreMigration{Phase: odoov1alpha2.FilestoreMigrationCopying}}
	}
	rolledBack := func(i *odoov1alpha2.OdooInstance) {
		i.Spec.Image = brokenImage
		i.Status.Deployment = odoov1alpha2.DeploymentStatus{CurrentImage: brokenImage,
			Rollback: &odoov1alpha2.RollbackStatus{FromImage: brokenImage, ToImage: testWebImage, Reason: odoov1alpha2.ReasonCrashLooping, Message: "crash-looping"}}
	}
	serving := func() *appsv1.Deployment { return settledDeployment("shop", 2, testWebImage) }
	held := func() *appsv1.Deployment { return scaledToZero("shop") }
	rollingOut := func(image string) *appsv1.Deployment {
		return fakeDeployment{name: "shop", generation: 3, observed: 3, replicas: 2, updated: 2, ready: 0, available: 0, image: image}.build()
	}

	tests := []struct {
		name        string
		mutate      []func(*odoov1alpha2.OdooInstance)
		web         *appsv1.Deployment
		hold        bool
		stopWeb     bool
		stalled     *problem
		progressing *problem
		wantPhase   odoov1alpha2.Phase
		wantReady   metav1.ConditionStatus
		wantReason  string
		wantCurrent string
		wantWanted  string
	}{
		{name: "idle and serving", web: serving(),
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonAvailable, wantCurrent: testWebImage},
		{name: "restore operation holds the tiers at 0", mutate: fnList(op(odoov1alpha2.OperationRestore)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseRestoring, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRestoring},
		{name: "restore-hold annotation without the lock record (older objects)", mutate: fnList(restoreHold), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseRestoring, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRestoring},
		{name: "staging refresh is a restore", mutate: fnList(op(odoov1alpha2.OperationStagingRefresh)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseRestoring, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRestoring},
		// The reconcile reports an upgrade in flight as progress (scope.addUpgradeProblems).
		{name: "upgrade operation while the old image serves", mutate: fnList(op(odoov1alpha2.OperationUpgrade), upgradeAt(odoov1alpha2.UpgradeStepUpgrade)), web: serving(),
			progressing: &problem{odoov1alpha2.ReasonUpgrading, "step Upgrade"},
			wantPhase:   odoov1alpha2.PhaseUpgrading, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonUpgrading, wantCurrent: testWebImage},
		{name: "a lock record alone does not make a serving instance unready", mutate: fnList(op(odoov1alpha2.OperationUpgrade)), web: serving(),
			wantPhase: odoov1alpha2.PhaseUpgrading, wantReady: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonAvailable, wantCurrent: testWebImage},
		{name: "upgrade in maintenance mode serves nothing", mutate: fnList(op(odoov1alpha2.OperationUpgrade)), web: held(), stopWeb: true,
			wantPhase: odoov1alpha2.PhaseUpgrading, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonUpgrading},
		{name: "module install is an upgrade", mutate: fnList(op(odoov1alpha2.OperationModuleInstall)), web: held(), stopWeb: true,
			wantPhase: odoov1alpha2.PhaseUpgrading, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonUpgrading},
		{name: "upgrade in flight without the lock record", mutate: fnList(upgradeAt(odoov1alpha2.UpgradeStepVerify)), web: held(), stopWeb: true,
			wantPhase: odoov1alpha2.PhaseUpgrading, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonUpgrading},
		{name: "failed upgrade loads its restore point", mutate: fnList(upgradeAt(odoov1alpha2.UpgradeStepRestore)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseRestoring, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRestoring},
		{name: "failed upgrade restoring under the lock record", mutate: fnList(op(odoov1alpha2.OperationUpgrade), upgradeAt(odoov1alpha2.UpgradeStepRestore)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseRestoring, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRestoring},
		{name: "filestore migration operation", mutate: fnList(op(odoov1alpha2.OperationFilestoreMigration)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseMigrating, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonFilestoreMigrating},
		{name: "filestore copying without the lock record", mutate: fnList(copying), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseMigrating, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonFilestoreMigrating},
		{name: "database move", mutate: fnList(op(odoov1alpha2.OperationDatabaseMove)), web: held(), hold: true,
			wantPhase: odoov1alpha2.PhaseMigrating, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonDatabaseMoving},
		{name: "a backup leaves the instance serving", mutate: fnList(op(odoov1alpha2.OperationBackup)), web: serving(),
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonAvailable, wantCurrent: testWebImage},
		{name: "rollback whose image does not serve yet", mutate: fnList(rolledBack), web: rollingOut(testWebImage),
			wantPhase: odoov1alpha2.PhaseRollingBack, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonRollingBack,
			wantCurrent: brokenImage},
		{name: "rollback done: the old image serves, the wanted one shown apart", mutate: fnList(rolledBack), web: serving(),
			wantPhase: odoov1alpha2.PhaseRunning, wantReady: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonAvailable,
			wantCurrent: testWebImage, wantWanted: brokenImage},
		{name: "web held without an operation serves nothing", web: held(), stopWeb: true,
			wantPhase: odoov1alpha2.PhasePending, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonNotServing},
		{name: "stopped on purpose is Ready", mutate: fnList(func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To[int32](0) }), web: held(),
			wantPhase: odoov1alpha2.PhaseStopped, wantReady: metav1.ConditionTrue, wantReason: odoov1alpha2.ReasonAvailable},
		{name: "stalled wins over an operation", mutate: fnList(op(odoov1alpha2.OperationRestore)), web: held(), hold: true,
			stalled:   &problem{odoov1alpha2.ReasonUnknownCluster, "no such cluster"},
			wantPhase: odoov1alpha2.PhaseFailed, wantReady: metav1.ConditionFalse, wantReason: odoov1alpha2.ReasonUnknownCluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := statusInstance(tt.mutate...)
			status := computeReady(statusInputs{instance: inst, web: tt.web, cron: settledDeployment("shop-cron", 1, testCronImage),
				hold: tt.hold, stopWeb: tt.stopWeb, stalled: tt.stalled, progressing: tt.progressing})
			g.Expect(status.Phase).To(Equal(tt.wantPhase))
			ready := meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionReady)
			g.Expect(ready.Status).To(Equal(tt.wantReady), ready.Message)
			g.Expect(ready.Reason).To(Equal(tt.wantReason), ready.Message)
			if tt.wantReady == metav1.ConditionTrue && inst.WebReplicas() > 0 {
				g.Expect(status.ReadyReplicas).To(BeNumerically(">", 0), "Ready with no ready web pod")
			}
			// A Deployment held at 0 keeps its image: the one that serves
			// again when the hold ends.
			if tt.wantCurrent == "" {
				tt.wantCurrent = testWebImage
			}
			g.Expect(status.Deployment.CurrentImage).To(Equal(tt.wantCurrent))
			g.Expect(status.Deployment.WantedImage).To(Equal(tt.wantWanted))
		})
	}
}

func fnList(fs ...func(*odoov1alpha2.OdooInstance)) []func(*odoov1alpha2.OdooInstance) { return fs }

// TestWantedImage: spec.image is shown apart only while it is not the image
// that serves.
func TestWantedImage(t *testing.T) {
	for _, tt := range []struct{ spec, current, want string }{
		{spec: testWebImage, current: testWebImage, want: ""},
		{spec: brokenImage, current: testWebImage, want: brokenImage},
		{spec: testWebImage, current: "", want: testWebImage},
	} {
		status := &odoov1alpha2.OdooInstanceStatus{Deployment: odoov1alpha2.DeploymentStatus{CurrentImage: tt.current, WantedImage: "stale"}}
		setWantedImage(status, &odoov1alpha2.OdooInstance{Spec: odoov1alpha2.OdooInstanceSpec{Image: tt.spec}})
		if status.Deployment.WantedImage != tt.want {
			t.Errorf("spec %q, serving %q: wantedImage %q, want %q", tt.spec, tt.current, status.Deployment.WantedImage, tt.want)
		}
	}
}

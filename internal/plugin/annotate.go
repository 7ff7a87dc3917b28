package plugin

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// annotate sets (value != "") or removes one annotation of the instance with
// a merge patch, as `kubectl annotate` does.
func (s *session) annotate(ctx context.Context, inst *odoov1alpha2.OdooInstance, key, value string) error {
	patch := client.MergeFrom(inst.DeepCopy())
	if value == "" {
		delete(inst.Annotations, key)
	} else {
		if inst.Annotations == nil {
			inst.Annotations = map[string]string{}
		}
		inst.Annotations[key] = value
	}
	if err := s.c.Patch(ctx, inst, patch); err != nil {
		return failf("annotating OdooInstance %s/%s: %v", inst.Namespace, inst.Name, err)
	}
	return nil
}

// upgradeRequest is a new bemade.org/upgrade-now value: the time, so values
// never repeat and say when the upgrade was asked for.
func upgradeRequest(now time.Time) string {
	return "kubectl-odoo-" + strconv.FormatInt(now.UTC().Unix(), 10)
}

// upgradePlan says what setting bemade.org/upgrade-now will do.
func upgradePlan(inst *odoov1alpha2.OdooInstance, value string) string {
	image := inst.Spec.Image
	msg := fmt.Sprintf("requested a module upgrade of %s: %s=%s\n", inst.Name, odoov1alpha2.AnnotationUpgradeNow, value)
	msg += fmt.Sprintf("The operator runs `odoo -u` on database %s with image %s", dbName(inst), image)
	if inst.Spec.Backup.BeforeUpgrade == nil || *inst.Spec.Backup.BeforeUpgrade {
		msg += ", after a restore point backup"
	}
	msg += "; the current image keeps serving until it succeeded.\n"
	if suspendedInstance(inst) {
		msg += "The instance is suspended: the upgrade starts once it is resumed (kubectl odoo resume " + inst.Name + ").\n"
	}
	msg += "Follow it with: kubectl odoo status " + inst.Name + "\n"
	return msg
}

// suspendedInstance is the operator's test of bemade.org/suspend.
func suspendedInstance(inst *odoov1alpha2.OdooInstance) bool {
	return inst.Annotations[odoov1alpha2.AnnotationSuspend] == "true"
}

func dbName(inst *odoov1alpha2.OdooInstance) string {
	if inst.Status.Database != nil && inst.Status.Database.Name != "" {
		return inst.Status.Database.Name
	}
	return "(not created yet)"
}

func newUpgradeCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade NAME",
		Short: "Run a module upgrade now (sets the annotation " + odoov1alpha2.AnnotationUpgradeNow + " to a new value)",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.session()
			if err != nil {
				return err
			}
			inst, err := s.instance(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			value := upgradeRequest(time.Now())
			if err := s.annotate(cmd.Context(), inst, odoov1alpha2.AnnotationUpgradeNow, value); err != nil {
				return err
			}
			_, err = fmt.Fprint(o.streams.Out, upgradePlan(inst, value))
			return err
		},
	}
}

// newSuspendCommand builds `suspend` (on) or `resume` (!on).
func newSuspendCommand(o *options, on bool) *cobra.Command {
	use, short := "resume NAME", "Resume the reconciliation of a suspended instance"
	if on {
		use, short = "suspend NAME", "Pause the reconciliation of an instance (annotation "+odoov1alpha2.AnnotationSuspend+"=true)"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.session()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			inst, err := s.instance(ctx, args[0])
			if err != nil {
				return err
			}
			value := ""
			if on {
				value = "true"
			}
			if err := s.annotate(ctx, inst, odoov1alpha2.AnnotationSuspend, value); err != nil {
				return err
			}
			out := o.streams.Out
			if !on {
				_, err := fmt.Fprintf(out, "%s resumed: the operator reconciles it again and carries out what changed meanwhile.\n", inst.Name)
				return err
			}
			_, _ = fmt.Fprintf(out, "%s suspended (%s=true): the operator changes nothing of it but its NetworkPolicies until `kubectl odoo resume %s`.\n",
				inst.Name, odoov1alpha2.AnnotationSuspend, inst.Name)
			_, _ = fmt.Fprintln(out, "Pods keep running; a Job already running finishes, the step after it waits; no upgrade, init or scheduled backup starts.")
			if acknowledged(ctx, s, inst.Name, inst.Generation) {
				_, err = fmt.Fprintln(out, "The operator acknowledged it (condition Suspended=True).")
			} else {
				_, err = fmt.Fprintln(out, "The operator has not acknowledged it yet (condition Suspended); check that it runs.")
			}
			return err
		},
	}
}

// acknowledged waits up to 10 s for the Suspended condition of generation gen.
func acknowledged(ctx context.Context, s *session, name string, gen int64) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		inst := &odoov1alpha2.OdooInstance{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, inst); err == nil {
			c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionSuspended)
			if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration >= gen {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
	return false
}

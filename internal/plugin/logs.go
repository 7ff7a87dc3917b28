package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// renderHealth prints the classified errors behind status.health: the
// count per category, then each stored error with its sample lines.
func renderHealth(w io.Writer, inst *odoov1alpha2.OdooInstance, now time.Time) error {
	var b strings.Builder
	h := inst.Status.Health
	switch {
	case !inst.LogMonitoringEnabled():
		fmt.Fprintf(&b, "Log monitoring is off for %s (spec.logMonitoring): no errors are collected.\n", inst.Name)
	case h == nil:
		fmt.Fprintf(&b, "No log sample of %s yet: the operator samples the web and cron pods' logs periodically.\n", inst.Name)
	default:
		rep := healthReport(h)
		status := h.Status
		if status == "" {
			status = "Unknown"
		}
		fmt.Fprintf(&b, "Health of %s: %s, %d errors in the sampling window", inst.Name, status, h.ErrorCount)
		if h.LastErrorTime != nil {
			fmt.Fprintf(&b, ", newest %s", timeAndAge(*h.LastErrorTime, now))
		}
		b.WriteString("\n")
		if len(rep.Categories) > 0 {
			b.WriteString("\n")
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			_, _ = fmt.Fprintln(tw, "CATEGORY\tCOUNT")
			for _, c := range rep.Categories {
				_, _ = fmt.Fprintf(tw, "%s\t%d\n", c.Category, c.Count)
			}
			_ = tw.Flush()
			b.WriteString("\nErrors, newest first:\n")
		}
		for _, e := range h.Errors {
			when := "-"
			if e.Timestamp != nil {
				when = e.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			cat := e.Category
			if cat == "" {
				cat = "Other"
			}
			level := e.Level
			if level == "" {
				level = "-"
			}
			fmt.Fprintf(&b, "%s  %s  %s  x%d\n", when, level, cat, max(e.Count, 1))
			for _, l := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func newLogsCommand(o *options) *cobra.Command {
	var followLog bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show the classified errors found in an instance's logs (status.health); --follow streams the web pod's log",
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
			if err := renderHealth(o.streams.Out, inst, time.Now()); err != nil || !followLog {
				return err
			}
			pod, err := s.webPod(ctx, inst)
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintf(o.streams.Out, "\n--- log of pod %s (container odoo) ---\n", pod.Name)
			return s.streamLog(ctx, o.streams.Out, pod.Name)
		},
	}
	cmd.Flags().BoolVarP(&followLog, "follow", "f", false, "then stream the log of a web pod")
	return cmd
}

// webPod is a running web pod of the instance, the newest first.
func (s *session) webPod(ctx context.Context, inst *odoov1alpha2.OdooInstance) (*corev1.Pod, error) {
	pods := &corev1.PodList{}
	if err := s.c.List(ctx, pods, client.InNamespace(s.namespace), client.MatchingLabels(resources.SelectorLabels(inst, resources.ComponentWeb))); err != nil {
		return nil, failf("listing the web pods of %s: %v", inst.Name, err)
	}
	var running []corev1.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp.IsZero() {
			running = append(running, p)
		}
	}
	if len(running) == 0 {
		return nil, failf("%s has no running web pod (replicas 0, stopped for an operation, or not started yet)", inst.Name)
	}
	sort.Slice(running, func(i, j int) bool {
		return running[j].CreationTimestamp.Before(&running[i].CreationTimestamp)
	})
	return &running[0], nil
}

func (s *session) streamLog(ctx context.Context, out io.Writer, pod string) error {
	rc, err := s.core.CoreV1().Pods(s.namespace).GetLogs(pod, &corev1.PodLogOptions{Container: "odoo", Follow: true, TailLines: ptrInt64(100)}).Stream(ctx)
	if err != nil {
		return failf("reading the log of pod %s: %v", pod, err)
	}
	defer func() { _ = rc.Close() }()
	if _, err := io.Copy(out, rc); err != nil && ctx.Err() == nil {
		return failf("reading the log of pod %s: %v", pod, err)
	}
	return nil
}

func ptrInt64(n int64) *int64 { return &n }

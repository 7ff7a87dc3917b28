package plugin

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// renderStatus prints a Report for people: one line per topic, labels
// aligned, times in UTC with their age at now.
func renderStatus(w io.Writer, r Report, now time.Time) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-14s%s\n", label+":", fmt.Sprintf(format, args...))
	}
	line("Name", "%s", r.Name)
	line("Namespace", "%s", r.Namespace)
	phase := r.Phase
	if r.Suspended {
		phase += " (suspended: reconciliation paused until `kubectl odoo resume " + r.Name + "`)"
	}
	line("Phase", "%s", phase)
	line("Ready", "%s (%s web pods ready)", r.Ready, r.Replicas)
	if r.URL != "" {
		line("URL", "%s", r.URL)
	}
	line("Image", "%s", imageLine(r.Images.Serving, r.Images.Wanted))
	if r.Images.CronWanted != "" && (r.Images.CronWanted != r.Images.Wanted || r.Images.CronServing != r.Images.Serving) {
		line("Cron image", "%s", imageLine(r.Images.CronServing, r.Images.CronWanted))
	}
	line("Database", "%s", databaseLine(r))
	line("Last backup", "%s", backupLine(r.LastBackup, now))
	healthLines(&b, r.Health)
	line("Operation", "%s", operationLine(r.Operation))
	line("Last upgrade", "%s", upgradeLine(r.Upgrade))
	if len(r.Problems) == 0 {
		line("Conditions", "all OK")
	} else {
		b.WriteString("Conditions not OK:\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range r.Problems {
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, oneLine(c.Message))
		}
		_ = tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func imageLine(serving, wanted string) string {
	switch serving {
	case "":
		return wanted + " (wanted; not serving yet)"
	case wanted:
		return serving
	default:
		return serving + " (serving), " + wanted + " (wanted)"
	}
}

func databaseLine(r Report) string {
	db := r.Database
	if db == nil || db.Name == "" {
		return "not created yet"
	}
	s := db.Name
	if db.Cluster != "" {
		s += " on cluster " + db.Cluster
	}
	if db.Initialized {
		return s + " (initialized)"
	}
	return s + " (not initialized yet)"
}

func backupLine(b *BackupReport, now time.Time) string {
	if b == nil {
		return "none"
	}
	var parts []string
	if b.Time != nil {
		parts = append(parts, timeAndAge(*b.Time, now))
	} else {
		parts = append(parts, "no successful backup")
	}
	if b.Status == string(metav1.ConditionFalse) {
		parts = append(parts, "newest failed: "+oneLine(b.Message))
	}
	return strings.Join(parts, "; ")
}

func healthLines(b *strings.Builder, h *HealthReport) {
	if h == nil {
		fmt.Fprintf(b, "%-14s%s\n", "Health:", "not sampled (log monitoring off or no sample yet)")
		return
	}
	status := h.Status
	if status == "" {
		status = "Unknown"
	}
	fmt.Fprintf(b, "%-14s%s, %d errors in the window\n", "Health:", status, h.ErrorCount)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, c := range h.Categories {
		_, _ = fmt.Fprintf(tw, "%14s%s\t%d\n", "", c.Category, c.Count)
	}
	_ = tw.Flush()
}

func operationLine(o *OperationReport) string {
	if o == nil {
		return "none"
	}
	s := o.Kind
	if o.Name != "" {
		s += " " + o.Name
	}
	if o.Step != "" {
		s += ", step " + o.Step
	}
	if o.Elapsed != "" {
		s += ", for " + o.Elapsed
	}
	return s
}

func upgradeLine(u *UpgradeReport) string {
	if u == nil {
		return "none"
	}
	s := u.Result
	if u.From != "" || u.To != "" {
		s = u.From + " -> " + u.To + ": " + s
	}
	if u.Duration != "" {
		s += " in " + u.Duration
	}
	if u.Trigger != "" {
		s += " (" + u.Trigger + ")"
	}
	if u.Result != "Success" && u.Message != "" {
		s += ": " + oneLine(u.Message)
	}
	return s
}

func timeAndAge(t metav1.Time, now time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + humanDuration(now.Sub(t.Time)) + " ago)"
}

// oneLine keeps a message on its line: conditions may carry several.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

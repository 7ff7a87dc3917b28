//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// block is one fenced code block of a guide.
type block struct{ lang, text string }

// guideBlocks returns the fenced code blocks of docs/guides/<name>, in
// order, with the indentation of a block inside a list item removed.
func guideBlocks(t *testing.T, name string) []block {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "docs", "guides", name))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	indent := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{lang: strings.TrimPrefix(trimmed, "```")}
			indent, _, _ = strings.Cut(line, "```")
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	return blocks
}

// guideShell runs the guides' commands as a reader types them: bash, the
// sandbox's kubectl, and a kubeconfig whose context namespace is the test's
// (the guides name no namespace).
type guideShell struct {
	t          *testing.T
	kubeconfig string
	dir        string
}

func newGuideShell(t *testing.T, ns string) *guideShell {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatalf("reading the sandbox's kubeconfig: %v", err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, src, 0o600); err != nil {
		t.Fatal(err)
	}
	framework.Kubectl(t, "--kubeconfig", kc, "config", "set-context", "--current", "--namespace", ns)
	return &guideShell{t: t, kubeconfig: kc, dir: dir}
}

// watchBound makes `kubectl ... -w` end: a reader stops it with ^C, the
// test after 5 seconds (timeout's 124 counts as that ^C).
const watchBound = `kubectl() {
  case " $* " in
  *" -w "*|*" --watch "*) timeout 5 kubectl "$@" || [ $? -eq 124 ];;
  *) command kubectl "$@";;
  esac
}
`

// run runs a script with bash -euo pipefail in the shell's directory and
// returns its stdout; it fails the test on an error or a kubectl warning.
func (s *guideShell) run(what, script string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", watchBound+script)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("%s: %v\n--- script\n%s--- stdout\n%s--- stderr\n%s", what, err, script, stdout.String(), stderr.String())
	}
	s.t.Logf("%s:\n%s", what, stdout.String())
	if strings.Contains(stderr.String(), "Warning:") {
		s.t.Errorf("%s warned: %s", what, stderr.String())
	}
	return stdout.String()
}

// runBlock runs a bash block of a guide and checks that a sample output
// line of the block (`# NAME   IMAGE ...`) names the columns kubectl
// printed.
func (s *guideShell) runBlock(what string, b block) string {
	s.t.Helper()
	if b.lang != "bash" {
		s.t.Fatalf("%s is a %q block, not bash", what, b.lang)
	}
	out := s.run(what, b.text)
	for _, line := range strings.Split(b.text, "\n") {
		sample, ok := strings.CutPrefix(strings.TrimSpace(line), "# NAME ")
		if !ok {
			continue
		}
		want := slices.DeleteFunc(append([]string{"NAME"}, strings.Fields(sample)...), func(f string) bool { return f == "..." })
		found := false
		for _, got := range strings.Split(out, "\n") {
			if f := strings.Fields(got); len(f) >= len(want) && slices.Equal(f[:len(want)], want) {
				found = true
			}
		}
		if !found {
			s.t.Errorf("%s: the sample header %v is not what kubectl printed:\n%s", what, want, out)
		}
	}
	return out
}

// write saves a yaml block under the file name its guide applies.
func (s *guideShell) write(name, text string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func mustReplace(t *testing.T, text, old, replacement string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("the guide no longer holds %q:\n%s", old, text)
	}
	return strings.ReplaceAll(text, old, replacement)
}

// TestGuidesRunAsWritten runs the commands and manifests of the task guides
// (first-instance.md, upgrade.md, backup-restore.md) in order, as written,
// on one instance. What the sandbox cannot hold is changed, each named
// here: the image of the first instance is simulated (odoo-sim:18.0, not
// odoo:18.0, whose real init takes a minute) and gets the module table
// Odoo's init would make; the restore's placeholder is the backup's key,
// and it is not neutralized (the simulated neutralize Job changes nothing,
// so the check after it would rightly refuse the database). The guides'
// inline commands are run as well, or named with where they are tested.
func TestGuidesRunAsWritten(t *testing.T) {
	ns := framework.Namespace(t, "e2e-guides")
	c := framework.NewClients(t)
	t.Setenv("KUBECACHEDIR", t.TempDir())
	sh := newGuideShell(t, ns)
	// The claim the guides' backups go to (backup-restore.md says to make one).
	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)

	// first-instance.md: the Secret, the instance, watching it come up.
	first := guideBlocks(t, "first-instance.md")
	if len(first) != 3 {
		t.Fatalf("first-instance.md has %d code blocks, this test runs 3", len(first))
	}
	sh.runBlock("first-instance.md step 1", first[0])
	sh.write("shop.yaml", mustReplace(t, first[1].text, "image: odoo:18.0", "image: odoo-sim:18.0"))
	sh.run("first-instance.md step 2", "kubectl apply -f shop.yaml")
	sh.runBlock("first-instance.md step 3", first[2])
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)

	// upgrade.md: an upgrade, then a failed one and how to read it.
	up := guideBlocks(t, "upgrade.md")
	if len(up) != 2 {
		t.Fatalf("upgrade.md has %d code blocks, this test runs 2", len(up))
	}
	newImage := "registry.example.com/shop:18.0-20270115"
	sh.runBlock("upgrade.md: the upgrade", up[0])
	if !strings.Contains(up[0].text, newImage) {
		t.Fatalf("upgrade.md no longer upgrades to %s", newImage)
	}
	waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(newImage))
	if step := sh.run("upgrade.md: the step", `kubectl get odoo shop -o jsonpath='{.status.upgrade.step}'`); step != string(odoov1alpha2.UpgradeStepDone) {
		t.Errorf("status.upgrade.step %q after the upgrade, want Done", step)
	}
	setImage(t, ns, "shop", newImage+"-broken")
	waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeFailed, attempted(newImage+"-broken"))
	out := sh.runBlock("upgrade.md: when it fails", up[1])
	if !strings.Contains(out, "exit code") && !strings.Contains(out, "ERROR") {
		t.Errorf("upgrade.md's failure commands print neither the message nor the Job's log:\n%s", out)
	}
	r := getRow(t, ns, "shop")
	if r["IMAGE"] != newImage || r["WANTED"] != newImage+"-broken" || r["PHASE"] != "Degraded" {
		t.Errorf("after the failed upgrade the row is %v; upgrade.md says PHASE Degraded, IMAGE the old image, WANTED the new one", r)
	}
	// "Fix the image, then set spec.image to the fixed one": the serving one.
	setImage(t, ns, "shop", newImage)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")

	// backup-restore.md: a backup now, a schedule, a restore.
	br := guideBlocks(t, "backup-restore.md")
	if len(br) != 5 {
		t.Fatalf("backup-restore.md has %d code blocks, this test runs 5", len(br))
	}
	sh.write("backup.yaml", br[0].text)
	out = sh.runBlock("backup-restore.md: a backup now", br[1])
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key, _, _ := strings.Cut(lines[len(lines)-1], " ")
	if !strings.HasPrefix(key, ns+"/shop-") || !strings.HasSuffix(key, ".zip") {
		t.Fatalf("backup-restore.md's backup printed %q, want <namespace>/shop-<uid>/....zip and its checksum", out)
	}
	// The schedule is a spec fragment: the API server validates it.
	patch, err := yaml.YAMLToJSON([]byte(br[2].text))
	if err != nil {
		t.Fatalf("backup-restore.md's schedule: %v", err)
	}
	sh.run("backup-restore.md: the schedule", fmt.Sprintf("kubectl patch odoo shop --type=merge --dry-run=server -p '%s'", patch))
	restore := mustReplace(t, br[3].text, "<status.objectKey of the backup>", key)
	restore = mustReplace(t, restore, "# neutralize: false", "neutralize: false")
	sh.write("restore.yaml", restore)
	sh.run("backup-restore.md: the restore", "kubectl apply -f restore.yaml")
	sh.runBlock("backup-restore.md: watching the restore", br[4])
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoorestorejobs.v1alpha2.bemade.org/shop-restore", "--timeout=2m")
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	if got := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/shop-restore", "{.status.keptDatabase}"); got == "" {
		t.Errorf("the restore kept no database; backup-restore.md says status.keptDatabase names it")
	}

	// staging.md: a staging instance and a restore of production's backup
	// into it. The simulated neutralize Job changes nothing, so the check
	// after it refuses the copy: staging keeps its database (the real
	// neutralize passing it is TestRealOdooRestore's).
	st := guideBlocks(t, "staging.md")
	if len(st) != 4 {
		t.Fatalf("staging.md has %d code blocks, this test runs 4", len(st))
	}
	sh.write("shop-staging.yaml", mustReplace(t, st[0].text, "image: odoo:18.0", "image: odoo-sim:18.0"))
	sh.runBlock("staging.md step 1", st[1])
	stagingDB := jsonpath(t, ns, "odoo/shop-staging", "{.status.database.name}")
	sh.write("refresh.yaml", mustReplace(t, st[2].text, "<status.objectKey of a backup of shop>", key))
	if !strings.HasPrefix(st[3].text, "kubectl apply -f refresh.yaml\n") {
		t.Fatalf("staging.md's step 2 no longer starts with kubectl apply -f refresh.yaml:\n%s", st[3].text)
	}
	sh.run("staging.md step 2", "kubectl apply -f refresh.yaml")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", "odoorestorejobs.v1alpha2.bemade.org/shop-staging-refresh-1", "--timeout=2m")
	if msg := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/shop-staging-refresh-1", "{.status.message}"); !strings.Contains(msg, "database.is_neutralized") {
		t.Errorf("the un-neutralized staging copy was refused for another reason: %s", msg)
	}
	if got := jsonpath(t, ns, "odoo/shop-staging", "{.status.database.name}"); got != stagingDB {
		t.Errorf("staging's database %q after the refused copy, want %q kept", got, stagingDB)
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop-staging", "--timeout=2m")

	runGuideInlineCommands(t, sh)
}

// guideInline is every inline `kubectl ...` of docs/guides: "" runs it here
// (NAME is the instance shop), "run: <command>" runs that form of it,
// otherwise where it is tested or why it cannot run in the sandbox.
var guideInline = map[string]string{
	"kubectl describe odoo NAME":                                                "",
	"kubectl describe odoo shop":                                                "",
	"kubectl describe deploy NAME":                                              "",
	"kubectl explain odoo.spec":                                                 "",
	"kubectl get events --field-selector involvedObject.kind=OdooInstance":      "",
	"kubectl get events --field-selector involvedObject.name=NAME":              "",
	"kubectl get odoo -A":                                                       "",
	"kubectl get odoo -o wide":                                                  "",
	"kubectl get odoo NAME":                                                     "",
	"kubectl get odoo shop":                                                     "",
	"kubectl get odoo shop -o jsonpath='{.status.upgrade.step}'":                "",
	"kubectl get odoobackupjob":                                                 "",
	"kubectl get odoorestorejob NAME -o jsonpath='{.status.step}'":              "run: kubectl get odoorestorejob shop-restore -o jsonpath='{.status.step}'",
	"kubectl get pods -l bemade.org/instance=NAME":                              "",
	"kubectl scale odoo NAME --replicas=1":                                      "",
	"kubectl wait --for=condition=Ready odoo/NAME":                              "",
	"kubectl apply -f shop.yaml":                                                "run above with first-instance.md's manifest",
	"kubectl edit odoo shop":                                                    "TestKubectlAsPeopleTypeIt (kubectl edit through an editor)",
	"kubectl scale odoo shop --replicas=3":                                      "TestKubectlAsPeopleTypeIt (kubectl scale odoo shop --replicas=2)",
	"kubectl annotate odoo NAME bemade.org/upgrade-now=$(date +%s) --overwrite": "TestUpgrade* in upgrade_test.go set the annotation",
	"kubectl annotate odoo shop bemade.org/upgrade-now=$(date +%s) --overwrite": "TestUpgrade* in upgrade_test.go set the annotation",
	"kubectl logs -n odoo-operator deploy/odoo-operator":                        "the sandbox runs the operator as a host process (its log is .sandbox/logs/operator.log)",
	"kubectl logs deploy/NAME":                                                  "simulated pods have no log but a -broken image's",
	"kubectl logs --previous":                                                   "a fragment: the pod is named in the RolledBack message",
	"kubectl logs job/...":                                                      "a fragment: the Job is named in the InitFailed message (DatabaseReady and Degraded)",
	"kubectl logs job/<status.upgrade.jobName>":                                 "upgrade.md's block runs the full command",
	"kubectl logs job/<status.database.move.dumpJob>":                           "the Job is named in status.database.move (TestDatabaseMovesBetweenPostgresServers in dbmove_test.go)",
	"kubectl logs job/NAME-fsmigrate-<hash>":                                    "the Job's hash is in the FilestoreMigrated message (TestFilestore* in filestore_test.go)",
	"kubectl logs job/NAME-init-<hash>":                                         "the Job is named in the DatabaseReady message while it runs",
	"kubectl odoo suspend NAME":                                                 "TestKubectlOdooPlugin (plugin_test.go)",
	"kubectl odoo resume NAME":                                                  "TestKubectlOdooPlugin (plugin_test.go)",
	"kubectl logs":                                                              "a word in a sentence",
	"kubectl describe pod":                                                      "a word in a sentence",
}

var inlineKubectl = regexp.MustCompile("`(kubectl [^`]*)`")

// runGuideInlineCommands runs the guides' inline commands guideInline marks
// runnable, and fails on one it does not know.
func runGuideInlineCommands(t *testing.T, sh *guideShell) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(framework.RepoRoot(), "docs", "guides", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inlineKubectl.FindAllStringSubmatch(string(b), -1) {
			cmd := m[1]
			why, known := guideInline[cmd]
			switch {
			case !known:
				t.Errorf("%s: `%s` is neither run by this test nor listed with where it is tested (guideInline)", filepath.Base(p), cmd)
			case why == "":
				sh.run(filepath.Base(p)+": "+cmd, strings.ReplaceAll(cmd, "NAME", "shop"))
			case strings.HasPrefix(why, "run: "):
				sh.run(filepath.Base(p)+": "+cmd, strings.TrimPrefix(why, "run: "))
			}
			seen[cmd] = true
		}
	}
	for cmd := range guideInline {
		if !seen[cmd] {
			t.Errorf("guideInline lists `%s`, which no guide holds any more", cmd)
		}
	}
}

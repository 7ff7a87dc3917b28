//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestHelmChart: the chart (charts/odoo-operator) installs into the sandbox
// with the helm binary built from its Go module, and the sample instance
// becomes Ready under it.
//
// The sandbox has no container runtime and no registry, so the chart's
// Deployment is played by KWOK (its pods become Ready, nothing runs), and the
// operator that serves the release is the host's bin/odoo-operator run the
// way the chart's pod would run: with the args of the Deployment the release
// rendered (only the listen addresses, the webhook URL and the certificate
// directory changed for a process outside the cluster) and with the
// identity of the chart's ServiceAccount (a token from `kubectl create
// token`), so every request it makes goes through the chart's RBAC. The
// sandbox's own operator (cluster-admin) is stopped meanwhile and restored
// at the end. docs/helm.md explains what this proves and what it cannot.
func TestHelmChart(t *testing.T) {
	helm := os.Getenv("HELM")
	if helm == "" {
		t.Fatal("HELM is not set: run `make test-e2e`, which builds helm and sets it")
	}
	root := framework.RepoRoot()
	releaseNS := framework.Namespace(t, "e2e-helm-operator")
	sampleNS := framework.Namespace(t, "e2e-helm-sample")
	ports := sandboxOperatorPorts(t)

	// The sandbox's operator and its webhook configuration make way; the
	// chart brings its own. Restored after the release is gone.
	pid := framework.OperatorPID(t)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the sandbox operator (pid %d): %v", pid, err)
	}
	t.Cleanup(func() {
		// The chart's CRDs leave helm's field ownership behind: take it back
		// the way the sandbox applies them, then restart the sandbox's operator
		// (it re-applies the CRDs and recreates its webhook configuration).
		if _, err := framework.KubectlE("apply", "--server-side", "--force-conflicts", "-f", filepath.Join(root, "config", "crd", "bases")); err != nil {
			t.Errorf("re-applying config/crd/bases: %v", err)
		}
		framework.RestartOperator(t)
	})
	framework.Eventually(t, 30*time.Second, "the sandbox operator stops", func() error {
		if !framework.ProcessGone(pid) {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	})
	framework.Kubectl(t, "delete", "validatingwebhookconfiguration", "odoo-operator-validating", "--ignore-not-found")
	// The sandbox's operator pointed the CRDs' conversion at its host URL; a
	// helm patch adding the chart's Service next to it is invalid (one of url
	// and service). Put them as a kustomize install leaves them, behind the
	// Service: the state an in-cluster operator keeps.
	for _, crd := range []string{"odooinstances", "odooinitjobs", "odooupgradejobs", "odoobackupjobs", "odoorestorejobs", "odoostagingrefreshjobs"} {
		framework.Kubectl(t, "patch", "crd", crd+".bemade.org", "--type=json", "-p", fmt.Sprintf(`[{"op": "replace", "path": "/spec/conversion/webhook/clientConfig",
			"value": {"service": {"namespace": %q, "name": "odoo-operator-webhook", "path": "/convert", "port": 443}}}]`, releaseNS))
	}

	// The clusters Secret the chart's operator reads, in the release namespace.
	clusters := framework.Kubectl(t, "get", "secret", "postgres-clusters", "-n", "odoo-operator", "-o", "jsonpath={.data.clusters\\.yaml}")
	framework.Apply(t, releaseNS, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: postgres-clusters}\ndata: {clusters.yaml: %s}\n", clusters))

	// helm install: CRDs (taking over those the sandbox applied), RBAC, the
	// webhook configuration, the Deployment and its PodDisruptionBudget, all
	// accepted by the real API server; --wait: KWOK makes both replicas Ready.
	runHelm(t, helm, "install", "odoo-operator", filepath.Join(root, "charts", "odoo-operator"),
		"--namespace", releaseNS, "--take-ownership", "--wait", "--timeout", "2m",
		// As the sandbox's operator: tenants' URLs may reach the loopback ports
		// of the real Odoo pods and the tests' listeners only.
		"--set", "egress.allow={127.0.0.1/32:31000-31999}")
	t.Cleanup(func() {
		_, _ = helmOutput(helm, "uninstall", "odoo-operator", "--namespace", releaseNS, "--ignore-not-found", "--wait")
	})

	if got := jsonpath(t, releaseNS, "deploy/odoo-operator", "{.status.readyReplicas}/{.spec.replicas}"); got != "2/2" {
		t.Errorf("chart Deployment ready replicas %s, want 2/2", got)
	}
	if got := jsonpath(t, releaseNS, "pdb/odoo-operator", "{.spec.minAvailable}"); got != "1" {
		t.Errorf("PodDisruptionBudget minAvailable %q, want 1", got)
	}
	// Default legacyVersions.served=false: only v1alpha2 is served.
	if got := jsonpath(t, "", "crd/odooinstances.bemade.org", `{range .spec.versions[*]}{.name}={.served} {end}`); got != "v1=false v1alpha1=false v1alpha2=true " {
		t.Errorf("odooinstances served versions %q, want v1alpha2 only", got)
	}

	// The operator, as the chart's pod would run it.
	args := releaseArgs(t, helm, releaseNS, ports)
	kubeconfig := serviceAccountKubeconfig(t, releaseNS, "odoo-operator")
	if got := framework.Kubectl(t, "--kubeconfig", kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); got != "system:serviceaccount:"+releaseNS+":odoo-operator" {
		t.Fatalf("the operator's identity is %q, want the chart's ServiceAccount", got)
	}
	// The chart grants Secret updates on its certificate Secret only.
	if out, _ := framework.KubectlE("--kubeconfig", kubeconfig, "auth", "can-i", "update", "secrets", "-n", sampleNS); strings.TrimSpace(out) != "no" {
		t.Errorf("the chart's ServiceAccount may update any Secret of a tenant namespace: can-i says %q", out)
	}
	if out, _ := framework.KubectlE("--kubeconfig", kubeconfig, "auth", "can-i", "update", "secrets/odoo-operator-webhook-certs", "-n", releaseNS); strings.TrimSpace(out) != "yes" {
		t.Errorf("the chart's ServiceAccount may not update its certificate Secret: can-i says %q", out)
	}
	// The API server reaches a process on the host by URL, not through the
	// Service (no kube-proxy here), as hack/sandbox.sh does for its operator.
	framework.Kubectl(t, "patch", "validatingwebhookconfiguration", "odoo-operator-validating", "--type=json", "-p", fmt.Sprintf(`[
		{"op": "remove", "path": "/webhooks/0/clientConfig/service"},
		{"op": "add", "path": "/webhooks/0/clientConfig/url", "value": "https://127.0.0.1:%s/validate-bemade-org-v1alpha2-odooinstance"}]`, ports.webhook))
	startChartOperator(t, kubeconfig, releaseNS, args, ports)

	// Leader election through the chart's Role: the Lease in the release namespace.
	framework.Eventually(t, time.Minute, "the chart's operator holds the leader Lease", func() error {
		out, err := framework.KubectlE("get", "lease", "odoo-operator.bemade.org", "-n", releaseNS, "-o", "jsonpath={.spec.holderIdentity}")
		if err != nil || out == "" {
			return fmt.Errorf("lease holder %q: %w", out, err)
		}
		return nil
	})

	// The sample instance (config/samples, real Odoo) becomes Ready.
	sample, err := os.ReadFile(filepath.Join(root, "config", "samples", "bemade_v1alpha2_odooinstance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	framework.Apply(t, sampleNS, string(sample))
	framework.Kubectl(t, "wait", "-n", sampleNS, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=5m")
	if got := jsonpath(t, sampleNS, "deploy/shop", "{.status.availableReplicas}"); got != "1" {
		t.Errorf("sample web available replicas %q, want 1", got)
	}
	// The admission webhook of the chart answers (a shrink is refused).
	if _, err := framework.KubectlE("patch", "-n", sampleNS, "odooinstances.v1alpha2.bemade.org/shop", "--type=merge", "-p", `{"spec":{"filestore":{"storageSize":"500Mi"}}}`); err == nil || !strings.Contains(err.Error(), "cannot shrink") {
		t.Errorf("filestore shrink through the chart's webhook: %v, want refused", err)
	}

	// helm uninstall keeps the CRDs (helm.sh/resource-policy: keep), so the
	// instance survives the release.
	runHelm(t, helm, "uninstall", "odoo-operator", "--namespace", releaseNS, "--wait")
	if _, err := framework.KubectlE("get", "crd", "odooinstances.bemade.org"); err != nil {
		t.Errorf("helm uninstall deleted the CRD: %v", err)
	}
	if _, err := framework.KubectlE("get", "-n", sampleNS, "odooinstances.v1alpha2.bemade.org/shop"); err != nil {
		t.Errorf("helm uninstall deleted the instance: %v", err)
	}
}

// operatorPorts are the sandbox operator's host ports, free while it is stopped.
type operatorPorts struct{ metrics, health, webhook string }

func sandboxOperatorPorts(t *testing.T) operatorPorts {
	t.Helper()
	u, err := url.Parse(os.Getenv("SANDBOX_OPERATOR_METRICS_URL"))
	if err != nil || u.Port() == "" {
		t.Fatalf("SANDBOX_OPERATOR_METRICS_URL %q: run under `eval \"$(hack/sandbox.sh env)\"`", os.Getenv("SANDBOX_OPERATOR_METRICS_URL"))
	}
	p := operatorPorts{metrics: u.Port(), health: os.Getenv("SANDBOX_OPERATOR_HEALTH_PORT"), webhook: os.Getenv("SANDBOX_WEBHOOK_PORT")}
	if p.health == "" {
		p.health = "18081"
	}
	if p.webhook == "" {
		p.webhook = "19443"
	}
	return p
}

func helmOutput(helm string, args ...string) (string, error) {
	cmd := exec.Command(helm, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func runHelm(t *testing.T, helm string, args ...string) string {
	t.Helper()
	out, err := helmOutput(helm, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// releaseArgs are the manager container's args of the release's Deployment
// (helm get manifest), with what differs for a process on the host: listen
// addresses, the webhook reached by URL, a certificate directory of its own.
func releaseArgs(t *testing.T, helm, ns string, ports operatorPorts) []string {
	t.Helper()
	manifest := runHelm(t, helm, "get", "manifest", "odoo-operator", "--namespace", ns)
	var container struct {
		Args []string `json:"args"`
		Env  []struct {
			Name string `json:"name"`
		} `json:"env"`
	}
	for _, part := range strings.Split(manifest, "\n---") {
		var obj struct {
			Kind string `json:"kind"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []json.RawMessage `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(part), &obj); err != nil || obj.Kind != "Deployment" {
			continue
		}
		if len(obj.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("the release's Deployment has %d containers", len(obj.Spec.Template.Spec.Containers))
		}
		if err := yaml.Unmarshal(obj.Spec.Template.Spec.Containers[0], &container); err != nil {
			t.Fatal(err)
		}
	}
	if len(container.Args) == 0 {
		t.Fatalf("no Deployment args in the release's manifest:\n%s", manifest)
	}
	hostOnly := map[string]string{
		"--metrics-bind-address":      "127.0.0.1:" + ports.metrics,
		"--health-probe-bind-address": "127.0.0.1:" + ports.health,
		"--webhook-port":              ports.webhook,
	}
	var args []string
	for _, a := range container.Args {
		name, _, _ := strings.Cut(a, "=")
		if v, ok := hostOnly[name]; ok {
			a = name + "=" + v
		}
		args = append(args, a)
	}
	return append(args,
		"--webhook-host=127.0.0.1",
		"--webhook-url=https://127.0.0.1:"+ports.webhook,
		"--webhook-cert-dir="+t.TempDir(),
		"--webhook-cert-check-interval=10s",
	)
}

// serviceAccountKubeconfig writes a kubeconfig for the sandbox's API server
// that authenticates with a token of the ServiceAccount ns/name.
func serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	token := strings.TrimSpace(framework.Kubectl(t, "create", "token", name, "-n", ns, "--duration=1h"))
	admin, err := clientcmd.LoadFromFile(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = cluster
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["chart"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: name, Namespace: ns}
	cfg.CurrentContext = "chart"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startChartOperator runs bin/odoo-operator (built by the sandbox) with the
// chart's args and identity until the test ends, and waits for /readyz.
func startChartOperator(t *testing.T, kubeconfig, ns string, args []string, ports operatorPorts) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(framework.RepoRoot(), "bin", "odoo-operator"), args...)
	// POD_NAMESPACE: the downward API value of the chart's pod.
	cmd.Env = []string{"KUBECONFIG=" + kubeconfig, "POD_NAMESPACE=" + ns}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KUBECONFIG=") && !strings.HasPrefix(e, "POD_NAMESPACE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		var exit error
		select {
		case exit = <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			exit = <-done
		}
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("chart operator exit: %v", exit)
			if b, err := os.ReadFile(logPath); err == nil {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("chart operator log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		}
	})
	framework.Eventually(t, time.Minute, "the chart's operator is ready", func() error {
		select {
		case err := <-done:
			done <- err
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the chart's operator exited: %v\n%s", err, b)
		default:
		}
		resp, err := http.Get("http://127.0.0.1:" + ports.health + "/readyz") //nolint:noctx // a local probe
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}

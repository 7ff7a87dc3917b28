package plugin

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// psqlScript runs in the web pod: it reads the connection, the tenant's own
// role and password included, from the odoo.conf the pod mounts, so the
// password never leaves the pod nor appears on a command line (psql reads
// it from PGPASSWORD). The official Odoo image ships psql.
const psqlScript = `conf="${ODOO_RC:-/etc/odoo/odoo.conf}"
get() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$conf" | tail -n 1; }
PGHOST="$(get db_host)"; PGPORT="$(get db_port)"; PGUSER="$(get db_user)"; PGDATABASE="$(get db_name)"
PGPASSWORD="$(get db_password)"; PGSSLMODE="$(get db_sslmode)"
[ -n "$PGSSLMODE" ] || unset PGSSLMODE
export PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSSLMODE
command -v psql >/dev/null 2>&1 || { echo "psql is not installed in this image" >&2; exit 127; }
exec psql "$@"`

// kwokNode is the annotation KWOK puts on its simulated nodes: their pods
// have no container, so nothing can be executed in them.
const kwokNode = "kwok.x-k8s.io/node"

// simulatedNode says why a pod on node cannot exec, or "" when it can.
func simulatedNode(node *corev1.Node) string {
	if node == nil {
		return ""
	}
	if v, ok := node.Annotations[kwokNode]; ok {
		return "node " + node.Name + " is a KWOK simulated node (" + kwokNode + "=" + v + "): its pods run no container, so there is nothing to exec into"
	}
	return ""
}

// kubectlArgs forwards the connection flags the user gave (never a token
// or password: those would show on kubectl's command line).
func (o *options) kubectlArgs() []string {
	var args []string
	add := func(flag string, v *string) {
		if v != nil && *v != "" {
			args = append(args, "--"+flag+"="+*v)
		}
	}
	f := o.flags
	add("kubeconfig", f.KubeConfig)
	add("context", f.Context)
	add("cluster", f.ClusterName)
	add("user", f.AuthInfoName)
	add("server", f.APIServer)
	add("certificate-authority", f.CAFile)
	add("client-certificate", f.CertFile)
	add("client-key", f.KeyFile)
	return args
}

func newPsqlCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "psql NAME [-- PSQL ARGS]",
		Short: "Open psql on the instance's database with its own credentials, in a web pod (kubectl exec)",
		Args:  cobra.MinimumNArgs(1),
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
			pod, err := s.webPod(ctx, inst)
			if err != nil {
				return err
			}
			if why := simulatedNode(s.node(ctx, pod.Spec.NodeName)); why != "" {
				return failf("cannot open psql in pod %s: %s. psql needs a web pod on a real node.", pod.Name, why)
			}
			return o.execPsql(ctx, s.namespace, pod.Name, args[1:])
		},
	}
}

// node is the pod's node, nil when it cannot be read (a user may not be
// allowed to read nodes: exec then tells).
func (s *session) node(ctx context.Context, name string) *corev1.Node {
	if name == "" {
		return nil
	}
	n := &corev1.Node{}
	if err := s.c.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
		return nil
	}
	return n
}

func (o *options) execPsql(ctx context.Context, ns, pod string, psqlArgs []string) error {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return failf("kubectl is not on PATH: psql runs through `kubectl exec`")
	}
	args := append(o.kubectlArgs(), "exec", "-n", ns, "-c", "odoo", "-i")
	if f, ok := o.streams.In.(*os.File); ok && isTerminal(f) {
		args = append(args, "-t")
	}
	args = append(args, pod, "--", "sh", "-c", psqlScript, "psql")
	args = append(args, psqlArgs...)
	c := exec.CommandContext(ctx, kubectl, args...) //nolint:gosec // kubectl from PATH, as kubectl plugins do; no argument is a shell string of ours but the fixed script
	c.Stdin, c.Stdout, c.Stderr = o.streams.In, o.streams.Out, o.streams.ErrOut
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &exitError{code: ee.ExitCode(), msg: "psql in pod " + pod + " ended with exit code " + ee.String()}
		}
		return failf("running kubectl exec: %v", err)
	}
	return nil
}

// isTerminal is true for a character device (a terminal), without a
// dependency on a terminal package.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

package plugin

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// options are the connection flags and streams shared by every command.
type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
}

// session is a connection to the cluster in the selected namespace.
type session struct {
	namespace string
	config    *rest.Config
	c         client.Client
	core      kubernetes.Interface
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = odoov1alpha2.AddToScheme(s)
	return s
}

func (o *options) session() (*session, error) {
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, failf("%v", err)
	}
	ns, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, failf("%v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: newScheme()})
	if err != nil {
		return nil, failf("connecting to the cluster: %v", err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, failf("connecting to the cluster: %v", err)
	}
	return &session{namespace: ns, config: cfg, c: c, core: core}, nil
}

// instance fetches the OdooInstance name, with an error a user can act on.
func (s *session) instance(ctx context.Context, name string) (*odoov1alpha2.OdooInstance, error) {
	inst := &odoov1alpha2.OdooInstance{}
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, inst); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, failf("OdooInstance %q not found in namespace %q (kubectl get odooinstances -n %s)", name, s.namespace, s.namespace)
		}
		return nil, failf("reading OdooInstance %s/%s: %v", s.namespace, name, err)
	}
	return inst, nil
}

// instanceJobs lists the OdooBackupJobs and OdooRestoreJobs of an instance.
func (s *session) instanceJobs(ctx context.Context, name string) ([]odoov1alpha2.OdooBackupJob, []odoov1alpha2.OdooRestoreJob, error) {
	backups := &odoov1alpha2.OdooBackupJobList{}
	if err := s.c.List(ctx, backups, client.InNamespace(s.namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing OdooBackupJobs: %w", err)
	}
	restores := &odoov1alpha2.OdooRestoreJobList{}
	if err := s.c.List(ctx, restores, client.InNamespace(s.namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing OdooRestoreJobs: %w", err)
	}
	var bs []odoov1alpha2.OdooBackupJob
	for _, b := range backups.Items {
		if b.Spec.OdooInstanceRef.Name == name {
			bs = append(bs, b)
		}
	}
	var rs []odoov1alpha2.OdooRestoreJob
	for _, r := range restores.Items {
		if r.Spec.OdooInstanceRef.Name == name {
			rs = append(rs, r)
		}
	}
	return bs, rs, nil
}

package certs

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// desiredConversion is the spec.conversion every CRD of Options.CRDNames
// gets. Every field the API server would default is set, so that an
// unchanged CRD compares equal and costs no write.
func desiredConversion(o Options, caBundle []byte) *apiextensionsv1.CustomResourceConversion {
	cc := &apiextensionsv1.WebhookClientConfig{CABundle: caBundle}
	if o.Service != nil {
		port := o.Service.Port
		if port == 0 {
			port = 443
		}
		cc.Service = &apiextensionsv1.ServiceReference{
			Namespace: o.Service.Namespace,
			Name:      o.Service.Name,
			Path:      ptr.To(ConvertPath),
			Port:      ptr.To(port),
		}
	} else {
		cc.URL = ptr.To(o.convertURL())
	}
	return &apiextensionsv1.CustomResourceConversion{
		Strategy: apiextensionsv1.WebhookConverter,
		Webhook: &apiextensionsv1.WebhookConversion{
			ClientConfig:             cc,
			ConversionReviewVersions: []string{"v1"},
		},
	}
}

// setCABundles sets caBundle on every client config and reports whether
// any changed.
func setCABundles(configs []*admissionregistrationv1.WebhookClientConfig, caBundle []byte) bool {
	changed := false
	for _, cc := range configs {
		if !bytes.Equal(cc.CABundle, caBundle) {
			cc.CABundle = bytes.Clone(caBundle)
			changed = true
		}
	}
	return changed
}

// publish makes caBundle the trust bundle of the CRDs' conversion webhook
// and of the admission webhook configurations. Objects already current are
// not written. Patches carry the read resourceVersion, so a concurrent edit
// (another replica, kubectl apply) is re-read rather than overwritten.
func (r *Rotator) publish(ctx context.Context, caBundle []byte) error {
	for _, name := range r.opts.CRDNames {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := r.c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
				return err
			}
			want := desiredConversion(r.opts, caBundle)
			if equality.Semantic.DeepEqual(crd.Spec.Conversion, want) {
				return nil
			}
			patch := client.MergeFromWithOptions(crd.DeepCopy(), client.MergeFromWithOptimisticLock{})
			crd.Spec.Conversion = want
			if err := r.c.Patch(ctx, crd, patch); err != nil {
				return err
			}
			r.log.Info("set the CRD's conversion webhook", "crd", name, "caBundleCerts", bytes.Count(caBundle, []byte("BEGIN CERTIFICATE")))
			return nil
		})
		if err != nil {
			return fmt.Errorf("setting the conversion webhook of CRD %s: %w", name, err)
		}
	}
	for _, name := range r.opts.ValidatingWebhookConfigs {
		if err := r.publishAdmission(ctx, "ValidatingWebhookConfiguration", &admissionregistrationv1.ValidatingWebhookConfiguration{}, name, caBundle); err != nil {
			return err
		}
	}
	for _, name := range r.opts.MutatingWebhookConfigs {
		if err := r.publishAdmission(ctx, "MutatingWebhookConfiguration", &admissionregistrationv1.MutatingWebhookConfiguration{}, name, caBundle); err != nil {
			return err
		}
	}
	return nil
}

// publishAdmission sets the caBundle of every webhook of one validating or
// mutating configuration. A configuration that does not exist is skipped:
// the API server calls no webhook through it, so nothing can fail.
func (r *Rotator) publishAdmission(ctx context.Context, kind string, obj client.Object, name string, caBundle []byte) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := r.c.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		var configs []*admissionregistrationv1.WebhookClientConfig
		switch o := obj.(type) {
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			for i := range o.Webhooks {
				configs = append(configs, &o.Webhooks[i].ClientConfig)
			}
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			for i := range o.Webhooks {
				configs = append(configs, &o.Webhooks[i].ClientConfig)
			}
		}
		if !setCABundles(configs, caBundle) {
			return nil
		}
		if err := r.c.Patch(ctx, obj, patch); err != nil {
			return err
		}
		r.log.Info("set the webhook configuration's caBundle", "kind", kind, "name", name, "webhooks", len(configs))
		return nil
	})
	switch {
	case apierrors.IsNotFound(err):
		r.log.Info("webhook configuration not found; skipped", "kind", kind, "name", name)
		return nil
	case err != nil:
		return fmt.Errorf("setting the caBundle of %s %s: %w", kind, name, err)
	}
	return nil
}

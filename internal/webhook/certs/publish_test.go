package certs

import (
	"testing"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
)

func TestDesiredConversion(t *testing.T) {
	g := NewWithT(t)
	bundle := []byte("bundle")
	svc := desiredConversion(Options{Service: &ServiceRef{Namespace: "ns", Name: "svc"}}, bundle)
	g.Expect(svc.Strategy).To(Equal(apiextensionsv1.WebhookConverter))
	g.Expect(svc.Webhook.ConversionReviewVersions).To(Equal([]string{"v1"}))
	g.Expect(svc.Webhook.ClientConfig).To(Equal(&apiextensionsv1.WebhookClientConfig{
		Service:  &apiextensionsv1.ServiceReference{Namespace: "ns", Name: "svc", Path: ptr.To("/convert"), Port: ptr.To[int32](443)},
		CABundle: bundle,
	}), "the port the API server would default is set, so a re-read compares equal")

	url := desiredConversion(Options{URL: "https://127.0.0.1:9443/"}, bundle)
	g.Expect(url.Webhook.ClientConfig.URL).To(Equal(ptr.To("https://127.0.0.1:9443/convert")))
	g.Expect(url.Webhook.ClientConfig.Service).To(BeNil())

	g.Expect(equality.Semantic.DeepEqual(desiredConversion(Options{URL: "https://h"}, bundle), desiredConversion(Options{URL: "https://h"}, []byte("bundle")))).To(BeTrue())
	g.Expect(equality.Semantic.DeepEqual(desiredConversion(Options{URL: "https://h"}, bundle), desiredConversion(Options{URL: "https://h"}, []byte("other")))).To(BeFalse())
}

func TestSetCABundles(t *testing.T) {
	g := NewWithT(t)
	a := &admissionregistrationv1.WebhookClientConfig{CABundle: []byte("new")}
	b := &admissionregistrationv1.WebhookClientConfig{CABundle: []byte("new")}
	g.Expect(setCABundles([]*admissionregistrationv1.WebhookClientConfig{a, b}, []byte("new"))).To(BeFalse(), "current: no write")
	b.CABundle = nil
	g.Expect(setCABundles([]*admissionregistrationv1.WebhookClientConfig{a, b}, []byte("new"))).To(BeTrue())
	g.Expect(b.CABundle).To(Equal([]byte("new")))
	g.Expect(setCABundles(nil, []byte("new"))).To(BeFalse())
}

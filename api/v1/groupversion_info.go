// Package v1 contains the first bemade.org API version of the Python operator,
// which labelled its OdooInstance schema v1 before it was stable. It is served
// (deprecated) so that manifests written for it keep working; the conversion
// webhook converts it to and from the v1alpha2 hub. Its schema is the legacy
// one of api/v1alpha1.
//
// +kubebuilder:object:generate=true
// +groupName=bemade.org
package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "bemade.org", Version: "v1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	// It uses apimachinery only, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &OdooInstance{}, &OdooInstanceList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

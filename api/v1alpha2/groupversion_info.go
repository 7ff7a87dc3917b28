// Package v1alpha2 contains the hub (storage) version of the bemade.org API:
// OdooInstance and, in later versions of the operator, the Odoo job kinds.
//
// +kubebuilder:object:generate=true
// +groupName=bemade.org
package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "bemade.org", Version: "v1alpha2"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	// It uses apimachinery only, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &OdooInstance{}, &OdooInstanceList{}, &OdooInitJob{}, &OdooInitJobList{},
		&OdooUpgradeJob{}, &OdooUpgradeJobList{}, &OdooBackupJob{}, &OdooBackupJobList{},
		&OdooRestoreJob{}, &OdooRestoreJobList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

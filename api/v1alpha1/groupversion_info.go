// Package v1alpha1 contains the legacy bemade.org API (the Python operator's
// v1alpha1 and the reference operator 2.5.0's), served so that objects written
// for it keep working: OdooInstance, converted to and from the v1alpha2 hub by
// the conversion webhook, and OdooInitJob, OdooUpgradeJob, OdooBackupJob and
// OdooRestoreJob, whose schemas equal v1alpha2's.
//
// +kubebuilder:object:generate=true
// +groupName=bemade.org
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "bemade.org", Version: "v1alpha1"}

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

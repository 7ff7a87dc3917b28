package v1alpha2

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ModulesListMax bounds status.modules.list: an instance with hundreds of
// modules keeps a small object (see docs/modules.md for what is left out).
const ModulesListMax = 50

// ModulesStatus reports the Odoo modules of the instance's database, read as
// the instance's own PostgreSQL role from ir_module_module after the
// initialisation, after each upgrade or install, and on the operator's
// --modules-interval. The counts cover every module; list names only the
// modules a user has to look at.
type ModulesStatus struct {
	// observedTime is when ir_module_module was read with this result. The
	// operator reads it again after every upgrade and every
	// --modules-interval (10 minutes by default) but writes status.modules
	// only when the summary changed, so a steady instance costs no write:
	// an unchanged summary keeps the time of the read that first saw it.
	// +optional
	ObservedTime *metav1.Time `json:"observedTime,omitempty"`

	// installed counts the modules in state installed.
	// +optional
	Installed int32 `json:"installed"`
	// toUpgrade counts the modules in state "to upgrade": an update was
	// started and not finished.
	// +optional
	ToUpgrade int32 `json:"toUpgrade,omitempty"`
	// toInstall counts the modules in state "to install".
	// +optional
	ToInstall int32 `json:"toInstall,omitempty"`
	// toRemove counts the modules in state "to remove".
	// +optional
	ToRemove int32 `json:"toRemove,omitempty"`
	// uninstalled counts the modules the database knows but has not
	// installed (Odoo lists every add-on it has seen).
	// +optional
	Uninstalled int32 `json:"uninstalled,omitempty"`
	// pending counts the modules with an update pending: in a "to ..."
	// state, or installed at a version lower than the one the running image
	// ships (when imageVersion is known).
	// +optional
	Pending int32 `json:"pending,omitempty"`

	// list names, at most 50, the modules worth a look, in this order: those
	// in a "to ..." state, those whose image version differs from the
	// installed one, then the modules spec.modules.install and
	// spec.init.modules declare. Plainly installed modules beyond these are
	// counted, not listed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	List []ModuleStatus `json:"list,omitempty"`
	// omitted counts the modules that qualified for list but did not fit.
	// +optional
	Omitted int32 `json:"omitted,omitempty"`

	// missing are the modules spec.modules.install (or autoInstall)
	// declares that the database has not installed: the next install run
	// installs them.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=512
	Missing []string `json:"missing,omitempty"`

	// lastInstalled are the modules the last install run added to the
	// database (the declared ones and the dependencies Odoo pulled in).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	LastInstalled []string `json:"lastInstalled,omitempty"`
}

// ModuleStatus is one module of the database.
type ModuleStatus struct {
	// name of the module.
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`
	// state in ir_module_module: installed, uninstalled, to upgrade, to
	// install, to remove.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	State string `json:"state,omitempty"`
	// installedVersion is the version installed in the database.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	InstalledVersion string `json:"installedVersion,omitempty"`
	// imageVersion is the version the running image ships, when known.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ImageVersion string `json:"imageVersion,omitempty"`
}

// Reasons of a preflight refusal: the new image was compared with the
// database before anything was touched, and the upgrade was not started.
const (
	// ReasonPreflightModulesMissing: modules installed in the database are
	// absent from the new image.
	ReasonPreflightModulesMissing = "PreflightModulesMissing"
	// ReasonPreflightVersionDown: a module's version in the new image is
	// lower than the one installed.
	ReasonPreflightVersionDown = "PreflightVersionDown"
	// ReasonPreflightSeriesChange: the new image is another Odoo series,
	// which needs a migration, not `-u all`.
	ReasonPreflightSeriesChange = "PreflightSeriesChange"
	// ReasonPreflightDependenciesMissing: an installed module depends on a
	// module the new image lacks or cannot install.
	ReasonPreflightDependenciesMissing = "PreflightDependenciesMissing"
	// ReasonPreflightInconclusive (Warning event): the preflight Job ended
	// well without listing the image's modules; the upgrade went on.
	ReasonPreflightInconclusive = "PreflightInconclusive"
)

// AnnotationAllowSeriesChange is the annotation that, set to the new image,
// lets that image's preflight pass a change of Odoo series (for a database already migrated out of band).
// It applies to that image only, so it cannot be left on by mistake.
const AnnotationAllowSeriesChange = "bemade.org/allow-series-change"

// UpgradeTriggerModules is status.upgrade.trigger of a run that installs
// the modules spec.modules.install declares and the database lacks (`odoo
// -i`, no `-u`), with the image already running.
const UpgradeTriggerModules = "Modules"

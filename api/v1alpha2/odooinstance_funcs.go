package v1alpha2

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaults applied when a field is unset. The CRD schema sets most of them at
// admission; these keep objects that predate a default (or come from a
// conversion) working the same way.
const (
	DefaultProbeEndpoint  = "/web/health"
	DefaultStorageSize    = "2Gi"
	DefaultCronReplicas   = int32(1)
	DefaultMaxCronThreads = int32(1)
)

// WebReplicas is the desired number of web pods.
func (in *OdooInstance) WebReplicas() int32 {
	if in.Spec.Replicas == nil {
		return 1
	}
	return *in.Spec.Replicas
}

// CronReplicas is the desired number of cron pods.
func (in *OdooInstance) CronReplicas() int32 {
	if in.Spec.Cron.Replicas == nil {
		return DefaultCronReplicas
	}
	return *in.Spec.Cron.Replicas
}

// CronMaxThreads is max_cron_threads for each cron pod.
func (in *OdooInstance) CronMaxThreads() int32 {
	if in.Spec.Cron.MaxCronThreads == nil || *in.Spec.Cron.MaxCronThreads < 1 {
		return DefaultMaxCronThreads
	}
	return *in.Spec.Cron.MaxCronThreads
}

// CronImage is the image of the cron pods.
func (in *OdooInstance) CronImage() string {
	if in.Spec.Cron.Image != "" {
		return in.Spec.Cron.Image
	}
	return in.Spec.Image
}

// Workers is the number of Odoo HTTP workers per web pod: spec.workers, else
// configOptions.workers (the legacy place), else 0 (threaded mode). Admission
// guarantees a number; anything unparsable counts as 0.
func (in *OdooInstance) Workers() int32 {
	if in.Spec.Workers != nil {
		return intOrStringToInt32(*in.Spec.Workers)
	}
	if v, ok := in.Spec.ConfigOptions["workers"]; ok {
		return intOrStringToInt32(intstr.FromString(string(v)))
	}
	return 0
}

func intOrStringToInt32(v intstr.IntOrString) int32 {
	if v.Type == intstr.Int {
		return max(v.IntVal, 0)
	}
	n, err := strconv.ParseInt(v.StrVal, 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// ProbeEndpoint is the HTTP path of the web probes.
func (in *OdooInstance) ProbeEndpoint() string {
	if in.Spec.Probes.Endpoint == "" {
		return DefaultProbeEndpoint
	}
	return in.Spec.Probes.Endpoint
}

// StorageSize is the requested filestore size.
func (in *OdooInstance) StorageSize() resource.Quantity {
	if in.Spec.Filestore.StorageSize == nil {
		return resource.MustParse(DefaultStorageSize)
	}
	return *in.Spec.Filestore.StorageSize
}

// FilestoreAccessMode is spec.filestore.accessMode, or ReadWriteMany when more
// than one web pod must share the filestore, or ReadWriteOnce.
func (in *OdooInstance) FilestoreAccessMode() corev1.PersistentVolumeAccessMode {
	if in.Spec.Filestore.AccessMode != "" {
		return in.Spec.Filestore.AccessMode
	}
	if in.WebReplicas() > 1 {
		return corev1.ReadWriteMany
	}
	return corev1.ReadWriteOnce
}

// URL is where users reach the instance, from the first ingress host.
func (in *OdooInstance) URL() string {
	if in.Spec.Ingress == nil || len(in.Spec.Ingress.Hosts) == 0 {
		return ""
	}
	return "https://" + string(in.Spec.Ingress.Hosts[0])
}

// AutoUpgradeEnabled is spec.autoUpgrade.enabled, true by default.
func (in *OdooInstance) AutoUpgradeEnabled() bool {
	return in.Spec.AutoUpgrade.Enabled == nil || *in.Spec.AutoUpgrade.Enabled
}

// MaintenanceMode is spec.autoUpgrade.maintenanceMode, true by default.
func (in *OdooInstance) MaintenanceMode() bool {
	return in.Spec.AutoUpgrade.MaintenanceMode == nil || *in.Spec.AutoUpgrade.MaintenanceMode
}

// UpgradeTimeout is spec.autoUpgrade.timeout, 30 minutes by default.
func (in *OdooInstance) UpgradeTimeout() time.Duration {
	if t := in.Spec.AutoUpgrade.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return 30 * time.Minute
}

// UpgradeOnFailure is spec.autoUpgrade.onFailure, KeepOldImage by default.
func (in *OdooInstance) UpgradeOnFailure() UpgradeFailurePolicy {
	if in.Spec.AutoUpgrade.OnFailure == "" {
		return UpgradeFailureKeepOldImage
	}
	return in.Spec.AutoUpgrade.OnFailure
}

// BackupBeforeUpgrade is spec.backup.beforeUpgrade, true by default.
func (in *OdooInstance) BackupBeforeUpgrade() bool {
	return in.Spec.Backup.BeforeUpgrade == nil || *in.Spec.Backup.BeforeUpgrade
}

// Production is true when spec.environment is Production; unset is not.
func (in *OdooInstance) Production() bool {
	return in.Spec.Environment == EnvironmentProduction
}

// LogMonitoringEnabled is spec.logMonitoring.enabled, true by default.
func (in *OdooInstance) LogMonitoringEnabled() bool {
	return in.Spec.LogMonitoring.Enabled == nil || *in.Spec.LogMonitoring.Enabled
}

// RollbackEnabled is spec.rollback.enabled, true by default.
func (in *OdooInstance) RollbackEnabled() bool {
	return in.Spec.Rollback.Enabled == nil || *in.Spec.Rollback.Enabled
}

// RollbackErrorThreshold is spec.rollback.errorThreshold (errors per
// minute), 10 by default.
func (in *OdooInstance) RollbackErrorThreshold() int32 {
	if t := in.Spec.Rollback.ErrorThreshold; t != nil && *t > 0 {
		return *t
	}
	return 10
}

// StabilizationPeriod is spec.rollback.stabilizationPeriod, 10 minutes by
// default.
func (in *OdooInstance) StabilizationPeriod() time.Duration {
	if p := in.Spec.Rollback.StabilizationPeriod; p != nil && p.Duration > 0 {
		return p.Duration
	}
	return 10 * time.Minute
}

// InFlight is true while an upgrade is between its first step and Done: it
// owns the instance's database. A nil status has no upgrade in flight.
func (s *UpgradeStatus) InFlight() bool {
	return s != nil && s.Step != "" && s.Step != UpgradeStepDone
}

// OperationKind is the kind of lock (status.operation) the run holds: an
// install run of spec.modules.install is a module install, anything else an
// upgrade.
func (s *UpgradeStatus) OperationKind() OperationKind {
	if s != nil && s.Trigger == UpgradeTriggerModules {
		return OperationModuleInstall
	}
	return OperationUpgrade
}

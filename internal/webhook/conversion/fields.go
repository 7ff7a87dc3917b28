package conversion

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// This file maps the fields both versions have. Everything else is carried by
// the annotation (see stash.go); these functions need not be lossless.

// legacyPhases maps the legacy phases to the hub's. The hub derives its phase
// from conditions; the nearest hub phase is used until the operator computes
// the real one, and the legacy value is restored while that has not happened.
var legacyPhases = map[odoov1alpha1.Phase]odoov1alpha2.Phase{
	odoov1alpha1.PhaseRunning:                      odoov1alpha2.PhaseRunning,
	odoov1alpha1.PhaseUpgrading:                    odoov1alpha2.PhaseUpgrading,
	odoov1alpha1.PhaseRestoring:                    odoov1alpha2.PhaseRestoring,
	odoov1alpha1.PhaseProvisioning:                 odoov1alpha2.PhasePending,
	odoov1alpha1.PhaseUninitialized:                odoov1alpha2.PhaseInitializing,
	odoov1alpha1.PhaseInitializing:                 odoov1alpha2.PhaseInitializing,
	odoov1alpha1.PhaseInitFailed:                   odoov1alpha2.PhaseFailed,
	odoov1alpha1.PhaseStarting:                     odoov1alpha2.PhasePending,
	odoov1alpha1.PhaseDegraded:                     odoov1alpha2.PhaseDegraded,
	odoov1alpha1.PhaseStopped:                      odoov1alpha2.PhaseStopped,
	odoov1alpha1.PhaseCloningFromSource:            odoov1alpha2.PhasePending,
	odoov1alpha1.PhaseBackingUp:                    odoov1alpha2.PhaseRunning,
	odoov1alpha1.PhaseMigratingFilestore:           odoov1alpha2.PhaseMigrating,
	odoov1alpha1.PhaseFinalizingFilestoreMigration: odoov1alpha2.PhaseMigrating,
	odoov1alpha1.PhaseMigratingDatabase:            odoov1alpha2.PhaseMigrating,
	odoov1alpha1.PhaseFinalizingDatabaseMigration:  odoov1alpha2.PhaseMigrating,
	odoov1alpha1.PhaseError:                        odoov1alpha2.PhaseFailed,
	odoov1alpha1.PhasePending:                      odoov1alpha2.PhasePending,
	odoov1alpha1.PhaseFailed:                       odoov1alpha2.PhaseFailed,
}

// hubPhases maps the hub phases the legacy enum lacks to the nearest legacy
// phase; the others have the same name in both. The stash restores the hub's
// value when the object comes back unchanged.
var hubPhases = map[odoov1alpha2.Phase]odoov1alpha1.Phase{
	odoov1alpha2.PhaseMigrating: odoov1alpha1.PhaseMigratingFilestore,
	// The legacy operators had no rollback: an image that misbehaves is Degraded.
	odoov1alpha2.PhaseRollingBack: odoov1alpha1.PhaseDegraded,
}

// downPhase is the legacy phase of a hub phase.
func downPhase(p odoov1alpha2.Phase) odoov1alpha1.Phase {
	if legacy, ok := hubPhases[p]; ok {
		return legacy
	}
	return odoov1alpha1.Phase(p)
}

// upBody converts the fields a legacy object shares with the hub, then fills
// what the legacy schema left implicit and the hub's schema defaults.
func (c *instanceConverter) upBody(in spokeBody) hubBody {
	s := &in.Spec
	var out hubBody
	h := &out.Spec

	h.Image = s.Image
	h.ImagePullSecret = s.ImagePullSecret
	h.AdminPassword = s.AdminPassword
	h.Replicas = copyPtr(s.Replicas)
	h.Resources = upResources(s.Resources)
	if s.Filestore != nil {
		if q, err := resource.ParseQuantity(s.Filestore.StorageSize); err == nil {
			h.Filestore.StorageSize = &q
		}
		h.Filestore.StorageClass = s.Filestore.StorageClass
	}
	if s.Ingress != nil {
		h.Ingress = &odoov1alpha2.IngressSpec{Issuer: s.Ingress.Issuer, Class: s.Ingress.Class}
		if g := s.Ingress.GatewayRef; g != nil && g.Name != "" {
			h.Ingress.GatewayRef = &odoov1alpha2.GatewayRef{Name: g.Name, Namespace: g.Namespace}
		}
		if s.Ingress.Hosts != nil {
			h.Ingress.Hosts = make([]odoov1alpha2.Hostname, len(s.Ingress.Hosts))
			for i, host := range s.Ingress.Hosts {
				h.Ingress.Hosts[i] = odoov1alpha2.Hostname(host)
			}
		}
	}
	if s.ConfigOptions != nil {
		h.ConfigOptions = make(map[string]odoov1alpha2.ConfigValue, len(s.ConfigOptions))
		for k, v := range s.ConfigOptions {
			h.ConfigOptions[k] = odoov1alpha2.ConfigValue(v)
		}
	}
	if s.Database != nil {
		h.Database = odoov1alpha2.DatabaseSpec{
			Cluster:       s.Database.Cluster,
			Name:          s.Database.Name,
			MissingPolicy: odoov1alpha2.DatabaseMissingPolicy(s.Database.MissingPolicy),
		}
	}
	h.Environment = odoov1alpha2.Environment(s.Environment)
	if r := s.ProductionInstanceRef; r != nil {
		h.ProductionInstanceRef = &odoov1alpha2.ProductionInstanceRef{Name: r.Name, Namespace: r.Namespace}
	}
	if s.Init != nil {
		h.Init.Modules = copySlice(s.Init.Modules)
		h.Init.Demo = s.Init.Demo
	}
	if s.Strategy != nil {
		h.Strategy.Type = odoov1alpha2.StrategyType(s.Strategy.Type)
		if ru := s.Strategy.RollingUpdate; ru != nil {
			h.Strategy.RollingUpdate = &odoov1alpha2.RollingUpdateSpec{
				MaxUnavailable: upIntOrString(ru.MaxUnavailable),
				MaxSurge:       upIntOrString(ru.MaxSurge),
			}
		}
	}
	if s.Webhook != nil {
		h.Webhook = &odoov1alpha2.WebhookSpec{URL: s.Webhook.URL}
	}
	if s.Probes != nil {
		h.Probes.Endpoint = s.Probes.ReadinessPath
	}
	if s.Cron != nil {
		h.Cron.Replicas = copyPtr(s.Cron.Replicas)
		if s.Cron.Resources != nil {
			h.Cron.Resources = s.Cron.Resources.DeepCopy()
		}
	}
	h.ExtraEnv = copyDeep(s.ExtraEnv, (*corev1.EnvVar).DeepCopyInto)
	h.ExtraEnvFrom = copyDeep(s.ExtraEnvFrom, (*corev1.EnvFromSource).DeepCopyInto)
	h.Affinity = upAffinity(s.Affinity)
	if ro := s.ReadOnlySQLAccess; ro != nil {
		h.ReadOnlySQLAccess = &odoov1alpha2.ReadOnlySQLAccessSpec{Enabled: copyPtr(ro.Enabled), ConnectionLimit: copyPtr(ro.ConnectionLimit)}
	}
	h.Tolerations = upTolerations(s.Tolerations)

	// What the legacy operator did when these were absent.
	if h.Database.Cluster == "" {
		h.Database.Cluster = c.opts.cluster()
	}
	if h.Filestore.StorageClass == "" {
		h.Filestore.StorageClass = c.opts.storageClass()
	}
	if h.Probes.Endpoint == "" {
		h.Probes.Endpoint = odoov1alpha2.DefaultProbeEndpoint
	}
	if h.Strategy.Type == "" {
		h.Strategy.Type = odoov1alpha2.StrategyRecreate
	}
	applyHubDefaults(h)

	st := &in.Status
	hs := &out.Status
	if st.Phase != "" {
		hs.Phase = legacyPhases[st.Phase]
	}
	hs.URL = st.URL
	hs.ReadyReplicas = st.ReadyReplicas
	hs.Selector = st.Selector
	if st.LastBackup != nil {
		hs.LastBackup = st.LastBackup.DeepCopy()
	}
	if st.DBInitialized || st.ActiveCluster != "" {
		hs.Database = &odoov1alpha2.DatabaseStatus{Cluster: st.ActiveCluster, Initialized: st.DBInitialized}
	}
	if st.Conditions != nil {
		hs.Conditions = make([]metav1.Condition, len(st.Conditions))
		for i, cond := range st.Conditions {
			hs.Conditions[i] = metav1.Condition{
				Type:               cond.Type,
				Status:             metav1.ConditionStatus(cond.Status),
				ObservedGeneration: cond.ObservedGeneration,
				Reason:             cond.Reason,
				Message:            cond.Message,
			}
			if cond.LastTransitionTime != nil {
				hs.Conditions[i].LastTransitionTime = *cond.LastTransitionTime.DeepCopy()
			}
		}
	}
	return out
}

// downBody converts the fields the hub shares with the legacy schema.
func downBody(in hubBody) spokeBody {
	h := &in.Spec
	var out spokeBody
	s := &out.Spec

	s.Image = h.Image
	s.ImagePullSecret = h.ImagePullSecret
	s.AdminPassword = h.AdminPassword
	s.Replicas = copyPtr(h.Replicas)
	s.Resources = downResources(h.Resources)
	if h.Filestore.StorageSize != nil || h.Filestore.StorageClass != "" {
		s.Filestore = &odoov1alpha1.FilestoreSpec{StorageClass: h.Filestore.StorageClass}
		if h.Filestore.StorageSize != nil {
			s.Filestore.StorageSize = h.Filestore.StorageSize.String()
		}
	}
	if h.Ingress != nil {
		s.Ingress = &odoov1alpha1.IngressSpec{Issuer: h.Ingress.Issuer, Class: h.Ingress.Class}
		if g := h.Ingress.GatewayRef; g != nil {
			s.Ingress.GatewayRef = &odoov1alpha1.GatewayRef{Name: g.Name, Namespace: g.Namespace}
		}
		if h.Ingress.Hosts != nil {
			s.Ingress.Hosts = make([]string, len(h.Ingress.Hosts))
			for i, host := range h.Ingress.Hosts {
				s.Ingress.Hosts[i] = string(host)
			}
		}
	}
	if h.ConfigOptions != nil {
		s.ConfigOptions = make(map[string]string, len(h.ConfigOptions))
		for k, v := range h.ConfigOptions {
			s.ConfigOptions[k] = string(v)
		}
	}
	if db := h.Database; db.Cluster != "" || db.Name != "" || db.MissingPolicy != "" {
		s.Database = &odoov1alpha1.DatabaseSpec{Cluster: db.Cluster, Name: db.Name, MissingPolicy: string(db.MissingPolicy)}
	}
	s.Environment = string(h.Environment)
	if r := h.ProductionInstanceRef; r != nil {
		s.ProductionInstanceRef = &odoov1alpha1.ProductionInstanceRef{Name: r.Name, Namespace: r.Namespace}
	}
	if len(h.Init.Modules) > 0 || h.Init.Demo {
		s.Init = &odoov1alpha1.InitSpec{Modules: copySlice(h.Init.Modules), Demo: h.Init.Demo}
	}
	if h.Strategy.Type != "" || h.Strategy.RollingUpdate != nil {
		s.Strategy = &odoov1alpha1.StrategySpec{Type: string(h.Strategy.Type)}
		if ru := h.Strategy.RollingUpdate; ru != nil {
			s.Strategy.RollingUpdate = &odoov1alpha1.RollingUpdateSpec{
				MaxUnavailable: downIntOrString(ru.MaxUnavailable),
				MaxSurge:       downIntOrString(ru.MaxSurge),
			}
		}
	}
	if h.Webhook != nil {
		s.Webhook = &odoov1alpha1.WebhookSpec{URL: h.Webhook.URL}
	}
	if e := h.Probes.Endpoint; e != "" {
		// The hub uses one path for the three probes.
		s.Probes = &odoov1alpha1.ProbesSpec{StartupPath: e, LivenessPath: e, ReadinessPath: e}
	}
	if h.Cron.Replicas != nil || h.Cron.Resources != nil {
		s.Cron = &odoov1alpha1.CronSpec{Replicas: copyPtr(h.Cron.Replicas)}
		if h.Cron.Resources != nil {
			s.Cron.Resources = h.Cron.Resources.DeepCopy()
		}
	}
	s.ExtraEnv = copyDeep(h.ExtraEnv, (*corev1.EnvVar).DeepCopyInto)
	s.ExtraEnvFrom = copyDeep(h.ExtraEnvFrom, (*corev1.EnvFromSource).DeepCopyInto)
	s.Affinity = downAffinity(h.Affinity)
	if ro := h.ReadOnlySQLAccess; ro != nil {
		s.ReadOnlySQLAccess = &odoov1alpha1.ReadOnlySQLAccessSpec{Enabled: copyPtr(ro.Enabled), ConnectionLimit: copyPtr(ro.ConnectionLimit)}
	}
	s.Tolerations = downTolerations(h.Tolerations)

	hs := &in.Status
	st := &out.Status
	st.Phase = downPhase(hs.Phase)
	st.URL = hs.URL
	st.ReadyReplicas = hs.ReadyReplicas
	st.Selector = hs.Selector
	if hs.LastBackup != nil {
		st.LastBackup = hs.LastBackup.DeepCopy()
	}
	if hs.Database != nil {
		st.ActiveCluster = hs.Database.Cluster
		st.DBInitialized = hs.Database.Initialized
	}
	if hs.Conditions != nil {
		st.Conditions = make([]odoov1alpha1.Condition, len(hs.Conditions))
		for i, cond := range hs.Conditions {
			st.Conditions[i] = odoov1alpha1.Condition{
				Type:               cond.Type,
				Status:             string(cond.Status),
				ObservedGeneration: cond.ObservedGeneration,
				Reason:             cond.Reason,
				Message:            cond.Message,
			}
			if !cond.LastTransitionTime.IsZero() {
				st.Conditions[i].LastTransitionTime = cond.LastTransitionTime.DeepCopy()
			}
		}
	}
	return out
}

func upResources(in *odoov1alpha1.ResourceRequirements) *corev1.ResourceRequirements {
	if in == nil {
		return nil
	}
	out := &corev1.ResourceRequirements{}
	if r := in.Requests; r != nil {
		out.Requests = resourceList(r.CPU, r.Memory)
	}
	if l := in.Limits; l != nil {
		out.Limits = resourceList(l.CPU, l.Memory)
	}
	return out
}

func resourceList(cpu, memory *resource.Quantity) corev1.ResourceList {
	out := corev1.ResourceList{}
	if cpu != nil {
		out[corev1.ResourceCPU] = cpu.DeepCopy()
	}
	if memory != nil {
		out[corev1.ResourceMemory] = memory.DeepCopy()
	}
	return out
}

func downResources(in *corev1.ResourceRequirements) *odoov1alpha1.ResourceRequirements {
	if in == nil {
		return nil
	}
	out := &odoov1alpha1.ResourceRequirements{}
	// An empty list reads as absent in JSON (omitempty).
	if len(in.Requests) > 0 {
		out.Requests = &odoov1alpha1.ResourceRequests{
			CPU:    quantity(in.Requests, corev1.ResourceCPU),
			Memory: quantity(in.Requests, corev1.ResourceMemory),
		}
	}
	if len(in.Limits) > 0 {
		out.Limits = &odoov1alpha1.ResourceLimits{
			CPU:    quantity(in.Limits, corev1.ResourceCPU),
			Memory: quantity(in.Limits, corev1.ResourceMemory),
		}
	}
	return out
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) *resource.Quantity {
	q, ok := l[name]
	if !ok {
		return nil
	}
	return new(q.DeepCopy())
}

// upIntOrString reads a legacy rolling-update bound: a whole number ("1") is a
// number of pods, anything else ("25%") is kept as a string.
func upIntOrString(s string) *intstr.IntOrString {
	if s == "" {
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 32); err == nil && n >= 0 && strconv.FormatInt(n, 10) == s {
		return new(intstr.FromInt32(int32(n)))
	}
	return new(intstr.FromString(s))
}

func downIntOrString(v *intstr.IntOrString) string {
	if v == nil {
		return ""
	}
	if v.Type == intstr.Int {
		return strconv.FormatInt(int64(v.IntVal), 10)
	}
	return v.StrVal
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return new(*p)
}

func copySlice[T any](in []T) []T {
	if in == nil {
		return nil
	}
	return append(make([]T, 0, len(in)), in...)
}

func copyDeep[T any](in []T, deepCopyInto func(*T, *T)) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i := range in {
		deepCopyInto(&in[i], &out[i])
	}
	return out
}

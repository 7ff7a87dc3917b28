package conversion

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// applyHubDefaults sets the v1alpha2 schema defaults (the +kubebuilder:default
// markers of api/v1alpha2) on unset fields, as the API server does when it
// reads the object from etcd. Up-conversion applies them so that the defaults
// are part of what it records: reading the object back through the spoke then
// does not show them. TestHubDefaultsMatchCRD keeps this in line with the CRD.
func applyHubDefaults(spec *odoov1alpha2.OdooInstanceSpec) {
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.Filestore.StorageSize == nil {
		q := resource.MustParse(odoov1alpha2.DefaultStorageSize)
		spec.Filestore.StorageSize = &q
	}
	if spec.Database.MissingPolicy == "" {
		spec.Database.MissingPolicy = odoov1alpha2.DatabaseMissingIgnore
	}
	if spec.DeletionPolicy == "" {
		spec.DeletionPolicy = odoov1alpha2.DeletionPolicyRetain
	}
	if len(spec.Init.Modules) == 0 {
		spec.Init.Modules = []string{"base"}
	}
	if spec.Probes.Endpoint == "" {
		spec.Probes.Endpoint = odoov1alpha2.DefaultProbeEndpoint
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = odoov1alpha2.StrategyRollingUpdate
	}
	if spec.Cron.Replicas == nil {
		spec.Cron.Replicas = ptr.To(odoov1alpha2.DefaultCronReplicas)
	}
	if spec.Cron.MaxCronThreads == nil {
		spec.Cron.MaxCronThreads = ptr.To(odoov1alpha2.DefaultMaxCronThreads)
	}
	au := &spec.AutoUpgrade
	if au.Enabled == nil {
		au.Enabled = ptr.To(true)
	}
	if au.MaintenanceMode == nil {
		au.MaintenanceMode = ptr.To(true)
	}
	if au.Timeout == nil {
		au.Timeout = &metav1.Duration{Duration: 30 * time.Minute}
	}
	if au.OnFailure == "" {
		au.OnFailure = odoov1alpha2.UpgradeFailureKeepOldImage
	}
	rb := &spec.Rollback
	if rb.Enabled == nil {
		rb.Enabled = ptr.To(true)
	}
	if rb.ErrorThreshold == nil {
		rb.ErrorThreshold = ptr.To[int32](10)
	}
	if rb.StabilizationPeriod == nil {
		rb.StabilizationPeriod = &metav1.Duration{Duration: 10 * time.Minute}
	}
	if spec.Backup.BeforeUpgrade == nil {
		spec.Backup.BeforeUpgrade = ptr.To(true)
	}
	if spec.Backup.Format == "" {
		spec.Backup.Format = odoov1alpha2.BackupFormatZip
	}
	if rt := spec.Backup.Retention; rt != nil {
		if rt.Daily == nil {
			rt.Daily = ptr.To[int32](7)
		}
		if rt.Weekly == nil {
			rt.Weekly = ptr.To[int32](4)
		}
		if rt.Monthly == nil {
			rt.Monthly = ptr.To[int32](3)
		}
	}
	if spec.LogMonitoring.Enabled == nil {
		spec.LogMonitoring.Enabled = ptr.To(true)
	}
}

// spokeDefault is one schema default of the legacy spokes (the
// +kubebuilder:default markers of api/v1alpha1 and api/v1 outside of embedded
// core/v1 types), as the JSON the API server inserts.
type spokeDefault struct {
	path string
	raw  string
}

// legacySpokeDefaults lists the spokes' schema defaults. TestSpokeDefaultsMatchCRD
// keeps it in line with the CRD.
var legacySpokeDefaults = []spokeDefault{
	{"/spec/image", `"odoo:18.0"`},
	{"/spec/replicas", `1`},
	{"/spec/resources/requests/cpu", `"200m"`},
	{"/spec/resources/requests/memory", `"250Mi"`},
	{"/spec/resources/limits/cpu", `"2000m"`},
	{"/spec/resources/limits/memory", `"2Gi"`},
	{"/spec/filestore/storageSize", `"2Gi"`},
	{"/spec/strategy/type", `"Recreate"`},
	{"/spec/strategy/rollingUpdate/maxUnavailable", `"25%"`},
	{"/spec/strategy/rollingUpdate/maxSurge", `"25%"`},
	{"/spec/sync/enabled", `false`},
	{"/spec/probes/startupPath", `"/web/health"`},
	{"/spec/probes/livenessPath", `"/web/health"`},
	{"/spec/probes/readinessPath", `"/web/health"`},
	{"/status/phase", `"Running"`},
}

// canonicalDefault is a spoke default as it reads after a trip through the Go
// types (2000m reads 2), keyed by path.
type canonicalDefault struct {
	segs  []string
	value any
}

// spokeDefaults are legacySpokeDefaults in canonical form, by path.
var spokeDefaults = mustCanonicalSpokeDefaults()

func mustCanonicalSpokeDefaults() map[string]canonicalDefault {
	out := make(map[string]canonicalDefault, len(legacySpokeDefaults))
	for _, d := range legacySpokeDefaults {
		segs, err := parsePointer(d.path)
		if err != nil {
			panic(err)
		}
		raw, err := decodeJSON([]byte(d.raw))
		if err != nil {
			panic(err)
		}
		// Build {"spec": {...: value}}, decode it into the spoke type and encode
		// it again to read the value back in the form the converter compares.
		tree := map[string]any{}
		cur := tree
		for _, s := range segs[:len(segs)-1] {
			next := map[string]any{}
			cur[s] = next
			cur = next
		}
		cur[segs[len(segs)-1]] = raw
		var body spokeBody
		if err := fromTree(tree, &body); err != nil {
			panic(fmt.Sprintf("spoke default %s: %v", d.path, err))
		}
		back, err := toTree(body)
		if err != nil {
			panic(err)
		}
		n := lookup(back, segs)
		if !n.ok {
			panic(fmt.Sprintf("spoke default %s does not survive the spoke type", d.path))
		}
		out[d.path] = canonicalDefault{segs: segs, value: n.v}
	}
	return out
}

// withSpokeDefault returns a copy of tree with the default d set, and whether
// the API server would set it: its parent object exists and the field does not.
func withSpokeDefault(tree map[string]any, d canonicalDefault) (map[string]any, bool) {
	parent, ok := lookupObject(tree, d.segs[:len(d.segs)-1])
	if !ok {
		return nil, false
	}
	if _, set := parent[d.segs[len(d.segs)-1]]; set {
		return nil, false
	}
	cp := runtime.DeepCopyJSONValue(tree).(map[string]any)
	p, _ := lookupObject(cp, d.segs[:len(d.segs)-1])
	p[d.segs[len(d.segs)-1]] = d.value
	return cp, true
}

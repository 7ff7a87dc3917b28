package conversion

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	utildiff "k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// fuzzIterations is the number of random objects per direction, as in Cluster
// API's FuzzTestFunc (1,000 with -short).
var fuzzIterations = 10000

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fuzzIterations = 1000
	}
	os.Exit(m.Run())
}

// fuzzSeed is random unless CONVERSION_FUZZ_SEED is set; a failure logs it.
func fuzzSeed(t *testing.T) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("CONVERSION_FUZZ_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("CONVERSION_FUZZ_SEED: %v", err)
		}
	}
	t.Logf("seed %d (rerun with CONVERSION_FUZZ_SEED=%d)", seed, seed)
	return seed
}

func newFiller(seed int64) *randfill.Filler {
	scheme := runtime.NewScheme()
	codecs := runtimeserializer.NewCodecFactory(scheme)
	return fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, fuzzFuncs), rand.NewSource(seed), codecs).
		NilChance(0.3).NumElements(0, 3)
}

// fuzzFuncs are the custom fill functions. metafuzzer.Funcs already makes
// ObjectMeta serialisable (RFC 3339 timestamps, no managed fields payload) and
// keeps TypeMeta empty, as conversion never sees it filled. Each function below
// exists because a random value of that type is not a value the API server can
// hold, or is normalised by JSON itself:
var fuzzFuncs = func(_ runtimeserializer.CodecFactory) []any {
	return []any{
		// metav1.Time is serialised with second precision and the zero value
		// reads back as null (absent), so times are whole seconds after 1970.
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.Unix(int64(c.Uint32())+1, 0)
		},
		// IntOrString is a union: exactly one member is set. Negative numbers are
		// kept: they are valid JSON and exercise the string mapping of the spokes.
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(int32(c.Uint32()))
			} else {
				*v = intstr.FromString(c.String(0))
			}
		},
		// resource.Quantity: any valid amount in any format. Equality is by value
		// (apiequality.Semantic compares Quantities with Cmp), since JSON writes
		// the canonical form.
		func(q *resource.Quantity, c randfill.Continue) {
			formats := []resource.Format{resource.DecimalSI, resource.BinarySI, resource.DecimalExponent}
			*q = *resource.NewMilliQuantity(c.Int63n(1<<40), formats[c.Intn(len(formats))])
		},
		// RawExtension (the spokes' opaque affinity and tolerations) holds JSON
		// bytes; they are normalised to compact JSON with sorted keys, which is
		// what any JSON round trip produces.
		func(r *runtime.RawExtension, c randfill.Continue) {
			m := map[string]any{}
			for range c.Intn(3) {
				if c.Bool() {
					m[c.String(0)] = c.String(0)
				} else {
					m[c.String(0)] = map[string]any{c.String(0): []any{c.String(0)}}
				}
			}
			b, _ := json.Marshal(m)
			*r = runtime.RawExtension{Raw: b}
		},
		// The spokes' affinity and tolerations are, half of the time, real
		// core/v1 values (as the reference operator writes them), so the typed
		// hub fields are exercised, not only the stash.
		func(s *odoov1alpha1.OdooInstanceSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Affinity, s.Tolerations = fuzzScheduling(c, s.Affinity, s.Tolerations)
		},
		func(s *odoov1.OdooInstanceSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Affinity, s.Tolerations = fuzzScheduling(c, s.Affinity, s.Tolerations)
		},
		// The spokes' free-text fields the converter parses get, besides random
		// text, the values it parses (in canonical and other spellings).
		func(f *odoov1alpha1.FilestoreSpec, c randfill.Continue) {
			c.FillNoCustom(f)
			f.StorageSize = pick(c, f.StorageSize, "2Gi", "2048Mi", "1000m", "10G", "0")
		},
		func(f *odoov1.FilestoreSpec, c randfill.Continue) {
			c.FillNoCustom(f)
			f.StorageSize = pick(c, f.StorageSize, "2Gi", "2048Mi", "1000m", "10G", "0")
		},
		func(r *odoov1alpha1.RollingUpdateSpec, c randfill.Continue) {
			c.FillNoCustom(r)
			r.MaxSurge = pick(c, r.MaxSurge, "25%", "1", "01", "-1", "2147483648")
			r.MaxUnavailable = pick(c, r.MaxUnavailable, "25%", "0", "3", "+3")
		},
		func(r *odoov1.RollingUpdateSpec, c randfill.Continue) {
			c.FillNoCustom(r)
			r.MaxSurge = pick(c, r.MaxSurge, "25%", "1", "01", "-1", "2147483648")
			r.MaxUnavailable = pick(c, r.MaxUnavailable, "25%", "0", "3", "+3")
		},
		func(p *odoov1alpha1.Phase, c randfill.Continue) {
			*p = odoov1alpha1.Phase(pick(c, c.String(0), legacyPhaseNames()...))
		},
		func(p *odoov1.Phase, c randfill.Continue) {
			*p = odoov1.Phase(pick(c, c.String(0), legacyPhaseNames()...))
		},
		func(p *odoov1alpha2.Phase, c randfill.Continue) {
			*p = odoov1alpha2.Phase(pick(c, c.String(0), "Pending", "Initializing", "Running", "Upgrading", "Degraded", "Stopped", "Failed"))
		},
		func(p *odoov1alpha2.StrategyType, c randfill.Continue) {
			*p = odoov1alpha2.StrategyType(pick(c, c.String(0), "Recreate", "RollingUpdate", ""))
		},
	}
}

// fuzzScheduling replaces the random opaque affinity and tolerations by
// random core/v1 ones half of the time, as normalised JSON (sorted keys).
func fuzzScheduling(c randfill.Continue, aff *runtime.RawExtension, tol []runtime.RawExtension) (*runtime.RawExtension, []runtime.RawExtension) {
	if c.Bool() {
		var a corev1.Affinity
		c.Fill(&a)
		aff = normalisedRaw(&a)
	}
	if c.Bool() {
		var ts []corev1.Toleration
		c.Fill(&ts)
		tol = nil
		for i := range ts {
			tol = append(tol, *normalisedRaw(&ts[i]))
		}
	}
	return aff, tol
}

func normalisedRaw(v any) *runtime.RawExtension {
	b, _ := json.Marshal(v)
	var tree any
	_ = json.Unmarshal(b, &tree)
	b, _ = json.Marshal(tree)
	return &runtime.RawExtension{Raw: b}
}

// pick returns random half of the time, otherwise one of the given values.
func pick(c randfill.Continue, random string, values ...string) string {
	if c.Bool() {
		return random
	}
	return values[c.Intn(len(values))]
}

func legacyPhaseNames() []string {
	out := make([]string, 0, len(legacyPhases))
	for p := range legacyPhases {
		out = append(out, string(p))
	}
	return out
}

// spokeOps abstracts over the two legacy versions.
type spokeOps[S runtime.Object] struct {
	version string
	new     func() S
	toHub   func(context.Context, S, *odoov1alpha2.OdooInstance) error
	fromHub func(context.Context, *odoov1alpha2.OdooInstance, S) error
	// defaults applies legacySpokeDefaults (the Go table, see
	// TestSpokeDefaultsMatchCRD) to an object.
	defaults func(testing.TB, S) S
}

var (
	v1alpha1Ops = spokeOps[*odoov1alpha1.OdooInstance]{
		version: "v1alpha1",
		new:     func() *odoov1alpha1.OdooInstance { return &odoov1alpha1.OdooInstance{} },
		toHub: func(ctx context.Context, s *odoov1alpha1.OdooInstance, h *odoov1alpha2.OdooInstance) error {
			return testConverter.v1alpha1ToHub(ctx, s, h)
		},
		fromHub: func(ctx context.Context, h *odoov1alpha2.OdooInstance, s *odoov1alpha1.OdooInstance) error {
			return testConverter.hubToV1alpha1(ctx, h, s)
		},
		defaults: withGoSpokeDefaults,
	}
	v1Ops = spokeOps[*odoov1.OdooInstance]{
		version: "v1",
		new:     func() *odoov1.OdooInstance { return &odoov1.OdooInstance{} },
		toHub: func(ctx context.Context, s *odoov1.OdooInstance, h *odoov1alpha2.OdooInstance) error {
			return testConverter.v1ToHub(ctx, s, h)
		},
		fromHub: func(ctx context.Context, h *odoov1alpha2.OdooInstance, s *odoov1.OdooInstance) error {
			return testConverter.hubToV1(ctx, h, s)
		},
		defaults: func(t testing.TB, in *odoov1.OdooInstance) *odoov1.OdooInstance {
			t.Helper()
			alpha := &odoov1alpha1.OdooInstance{}
			if err := errors.Join(recode(in.Spec, &alpha.Spec), recode(in.Status, &alpha.Status)); err != nil {
				t.Fatal(err)
			}
			alpha = withGoSpokeDefaults(t, alpha)
			out := in.DeepCopy()
			out.Spec, out.Status = odoov1.OdooInstanceSpec{}, odoov1.OdooInstanceStatus{}
			if err := errors.Join(recode(alpha.Spec, &out.Spec), recode(alpha.Status, &out.Status)); err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
)

func TestFuzzyConversionOdooInstanceV1alpha1(t *testing.T) {
	t.Parallel()
	fuzzInstance(t, v1alpha1Ops)
}

func TestFuzzyConversionOdooInstanceV1(t *testing.T) {
	t.Parallel()
	fuzzInstance(t, v1Ops)
}

func fuzzInstance[S runtime.Object](t *testing.T, ops spokeOps[S]) {
	ctx := context.Background()
	hubSchema := structural(t, "v1alpha2")
	spokeSchema := structural(t, ops.version)

	// spoke-hub-spoke: what was written through the spoke reads back the same.
	// The API server defaults every object written through the spoke, so the
	// random spoke gets the spoke's defaults first.
	t.Run("spoke-hub-spoke", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			spoke := ops.defaults(t, fill(f, ops.new()))
			before := spoke.DeepCopyObject()
			hub := &odoov1alpha2.OdooInstance{}
			mustConvert(t, i, ops.toHub(ctx, spoke, hub))
			back := ops.new()
			mustConvert(t, i, ops.fromHub(ctx, hub, back))
			expectEqual(t, i, "spoke-hub-spoke", spoke, back)
			expectEqual(t, i, "source unchanged", before, spoke)
		}
	})

	// hub-spoke-hub: a hub object read and written back through the spoke is
	// unchanged, whatever the spoke cannot represent.
	t.Run("hub-spoke-hub", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			hub := fill(f, &odoov1alpha2.OdooInstance{})
			before := hub.DeepCopy()
			spoke := ops.new()
			mustConvert(t, i, ops.fromHub(ctx, hub, spoke))
			back := &odoov1alpha2.OdooInstance{}
			mustConvert(t, i, ops.toHub(ctx, spoke, back))
			expectEqual(t, i, "hub-spoke-hub", hub, back)
			expectEqual(t, i, "source unchanged", before, hub)
		}
	})

	// The same through the API server's defaulting, with the schemas of the
	// generated CRD: written through the spoke (spoke defaults), stored, read
	// back through the spoke (hub defaults applied on the read from etcd).
	t.Run("spoke-hub-spoke with API server defaulting", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			spoke := apiServerDefaults(t, spokeSchema, fill(f, ops.new()))
			hub := &odoov1alpha2.OdooInstance{}
			mustConvert(t, i, ops.toHub(ctx, spoke, hub))
			hub = apiServerDefaults(t, hubSchema, hub)
			back := ops.new()
			mustConvert(t, i, ops.fromHub(ctx, hub, back))
			expectEqual(t, i, "spoke-hub-spoke (defaulted)", spoke, back)
		}
	})

	// Stored as v1alpha2 (hub defaults on read), read through the spoke,
	// written back unchanged through the spoke (the API server adds the spoke's
	// defaults), read again: the hub object is unchanged.
	t.Run("hub-spoke-hub with API server defaulting", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			hub := apiServerDefaults(t, hubSchema, fill(f, &odoov1alpha2.OdooInstance{}))
			spoke := ops.new()
			mustConvert(t, i, ops.fromHub(ctx, hub, spoke))
			spoke = apiServerDefaults(t, spokeSchema, spoke)
			back := &odoov1alpha2.OdooInstance{}
			mustConvert(t, i, ops.toHub(ctx, spoke, back))
			back = apiServerDefaults(t, hubSchema, back)
			expectEqual(t, i, "hub-spoke-hub (defaulted)", hub, back)
		}
	})
}

// TestFuzzyConversionOdooInitJob checks that OdooInitJob's v1alpha1 and
// v1alpha2 Go types round-trip through each other's JSON, as with conversion
// strategy None, where the API server only rewrites apiVersion, and that the
// webhook's converter gives the same result. TestInitJobSchemasIdentical
// checks the same of the CRD schemas.
func TestFuzzyConversionOdooInitJob(t *testing.T) {
	t.Parallel()
	t.Run("v1alpha1-v1alpha2-v1alpha1", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, &odoov1alpha1.OdooInitJob{})
			mid := &odoov1alpha2.OdooInitJob{}
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha2.GroupVersion.String()))
			back := &odoov1alpha1.OdooInitJob{}
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha1.GroupVersion.String()))
			expectEqual(t, i, "v1alpha1-v1alpha2-v1alpha1", in, back)

			// The webhook's converter does what strategy None does.
			hub := &odoov1alpha2.OdooInitJob{}
			mustConvert(t, i, initJobV1alpha1ToHub(context.Background(), in, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", mid, hub)
			spoke := &odoov1alpha1.OdooInitJob{}
			mustConvert(t, i, initJobHubToV1alpha1(context.Background(), hub, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", in, spoke)
		}
	})
	t.Run("v1alpha2-v1alpha1-v1alpha2", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, &odoov1alpha2.OdooInitJob{})
			mid := &odoov1alpha1.OdooInitJob{}
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha1.GroupVersion.String()))
			back := &odoov1alpha2.OdooInitJob{}
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha2.GroupVersion.String()))
			expectEqual(t, i, "v1alpha2-v1alpha1-v1alpha2", in, back)

			spoke := &odoov1alpha1.OdooInitJob{}
			mustConvert(t, i, initJobHubToV1alpha1(context.Background(), in, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", mid, spoke)
			hub := &odoov1alpha2.OdooInitJob{}
			mustConvert(t, i, initJobV1alpha1ToHub(context.Background(), spoke, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", in, hub)
		}
	})
}

// TestFuzzyConversionOdooUpgradeJob checks the same of OdooUpgradeJob as
// TestFuzzyConversionOdooInitJob does of OdooInitJob; TestUpgradeJobSchemasIdentical
// checks its CRD schemas.
func TestFuzzyConversionOdooUpgradeJob(t *testing.T) {
	t.Parallel()
	t.Run("v1alpha1-v1alpha2-v1alpha1", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, &odoov1alpha1.OdooUpgradeJob{})
			mid := &odoov1alpha2.OdooUpgradeJob{}
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha2.GroupVersion.String()))
			back := &odoov1alpha1.OdooUpgradeJob{}
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha1.GroupVersion.String()))
			expectEqual(t, i, "v1alpha1-v1alpha2-v1alpha1", in, back)

			// The webhook's converter does what strategy None does.
			hub := &odoov1alpha2.OdooUpgradeJob{}
			mustConvert(t, i, upgradeJobV1alpha1ToHub(context.Background(), in, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", mid, hub)
			spoke := &odoov1alpha1.OdooUpgradeJob{}
			mustConvert(t, i, upgradeJobHubToV1alpha1(context.Background(), hub, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", in, spoke)
		}
	})
	t.Run("v1alpha2-v1alpha1-v1alpha2", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, &odoov1alpha2.OdooUpgradeJob{})
			mid := &odoov1alpha1.OdooUpgradeJob{}
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha1.GroupVersion.String()))
			back := &odoov1alpha2.OdooUpgradeJob{}
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha2.GroupVersion.String()))
			expectEqual(t, i, "v1alpha2-v1alpha1-v1alpha2", in, back)

			spoke := &odoov1alpha1.OdooUpgradeJob{}
			mustConvert(t, i, upgradeJobHubToV1alpha1(context.Background(), in, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", mid, spoke)
			hub := &odoov1alpha2.OdooUpgradeJob{}
			mustConvert(t, i, upgradeJobV1alpha1ToHub(context.Background(), spoke, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", in, hub)
		}
	})
}

// TestFuzzyConversionOdooBackupJob checks of OdooBackupJob what
// TestFuzzyConversionOdooUpgradeJob checks of OdooUpgradeJob.
func TestFuzzyConversionOdooBackupJob(t *testing.T) {
	t.Parallel()
	fuzzSameSchema(t, func() *odoov1alpha1.OdooBackupJob { return &odoov1alpha1.OdooBackupJob{} },
		func() *odoov1alpha2.OdooBackupJob { return &odoov1alpha2.OdooBackupJob{} },
		backupJobV1alpha1ToHub, backupJobHubToV1alpha1)
}

// TestFuzzyConversionOdooRestoreJob checks the same of OdooRestoreJob.
func TestFuzzyConversionOdooRestoreJob(t *testing.T) {
	t.Parallel()
	fuzzSameSchema(t, func() *odoov1alpha1.OdooRestoreJob { return &odoov1alpha1.OdooRestoreJob{} },
		func() *odoov1alpha2.OdooRestoreJob { return &odoov1alpha2.OdooRestoreJob{} },
		restoreJobV1alpha1ToHub, restoreJobHubToV1alpha1)
}

// TestFuzzyConversionOdooStagingRefreshJob checks the same of
// OdooStagingRefreshJob.
func TestFuzzyConversionOdooStagingRefreshJob(t *testing.T) {
	t.Parallel()
	fuzzSameSchema(t, func() *odoov1alpha1.OdooStagingRefreshJob { return &odoov1alpha1.OdooStagingRefreshJob{} },
		func() *odoov1alpha2.OdooStagingRefreshJob { return &odoov1alpha2.OdooStagingRefreshJob{} },
		stagingJobV1alpha1ToHub, stagingJobHubToV1alpha1)
}

// fuzzSameSchema round-trips random objects of a job kind whose versions
// share a schema, through what strategy None does and through the converter.
func fuzzSameSchema[S, H jobObject](t *testing.T, newSpoke func() S, newHub func() H,
	toHub func(context.Context, S, H) error, toSpoke func(context.Context, H, S) error) {
	t.Run("v1alpha1-v1alpha2-v1alpha1", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, newSpoke())
			mid := newHub()
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha2.GroupVersion.String()))
			back := newSpoke()
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha1.GroupVersion.String()))
			expectEqual(t, i, "v1alpha1-v1alpha2-v1alpha1", in, back)

			hub := newHub()
			mustConvert(t, i, toHub(context.Background(), in, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", mid, hub)
			spoke := newSpoke()
			mustConvert(t, i, toSpoke(context.Background(), hub, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", in, spoke)
		}
	})
	t.Run("v1alpha2-v1alpha1-v1alpha2", func(t *testing.T) {
		t.Parallel()
		f := newFiller(fuzzSeed(t))
		for i := range fuzzIterations {
			in := fill(f, newHub())
			mid := newSpoke()
			mustConvert(t, i, viaAPIVersionChange(in, mid, odoov1alpha1.GroupVersion.String()))
			back := newHub()
			mustConvert(t, i, viaAPIVersionChange(mid, back, odoov1alpha2.GroupVersion.String()))
			expectEqual(t, i, "v1alpha2-v1alpha1-v1alpha2", in, back)

			spoke := newSpoke()
			mustConvert(t, i, toSpoke(context.Background(), in, spoke))
			expectEqual(t, i, "converter v1alpha2 to v1alpha1", mid, spoke)
			hub := newHub()
			mustConvert(t, i, toHub(context.Background(), spoke, hub))
			expectEqual(t, i, "converter v1alpha1 to v1alpha2", in, hub)
		}
	})
}

// viaAPIVersionChange does what the API server does for conversion strategy
// None: the JSON of in, with apiVersion replaced, decoded as out (whose Go
// type name is the kind).
func viaAPIVersionChange(in, out runtime.Object, apiVersion string) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(in)
	if err != nil {
		return err
	}
	u["apiVersion"] = apiVersion
	u["kind"] = reflect.Indirect(reflect.ValueOf(out)).Type().Name()
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return err
	}
	// Compare objects, not their TypeMeta (empty in fuzzed objects).
	out.GetObjectKind().SetGroupVersionKind(in.GetObjectKind().GroupVersionKind())
	return nil
}

func fill[T any](f *randfill.Filler, obj T) T {
	f.Fill(obj)
	return obj
}

func mustConvert(t *testing.T, i int, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("iteration %d: %v", i, err)
	}
}

func expectEqual(t *testing.T, i int, what string, want, got any) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatalf("iteration %d: %s differs (-want +got):\n%s", i, what, utildiff.Diff(want, got))
	}
}

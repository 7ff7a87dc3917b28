package conversion

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The legacy schemas keep affinity and tolerations as opaque JSON (the
// reference operator's CRD embeds core/v1's schema, which the spokes do not
// validate); the hub has the typed core/v1 fields. A legacy value that does
// not decode as core/v1 converts to nothing rather than failing: a failing
// conversion makes the object unreadable in every version. Whatever the hub
// cannot hold of it (unknown keys, a value that did not decode) is kept by the
// conversion annotation and given back to the spoke (stash.go).

func upAffinity(raw *runtime.RawExtension) *corev1.Affinity {
	if raw == nil || len(raw.Raw) == 0 {
		return nil
	}
	var out corev1.Affinity
	if json.Unmarshal(raw.Raw, &out) != nil {
		return nil
	}
	return &out
}

func downAffinity(a *corev1.Affinity) *runtime.RawExtension {
	if a == nil {
		return nil
	}
	return rawOf(a)
}

func upTolerations(raw []runtime.RawExtension) []corev1.Toleration {
	if raw == nil {
		return nil
	}
	out := make([]corev1.Toleration, 0, len(raw))
	for _, r := range raw {
		var t corev1.Toleration
		if len(r.Raw) == 0 || json.Unmarshal(r.Raw, &t) != nil {
			// One toleration the hub cannot read drops them all: a partial
			// list would let pods onto some tainted nodes the legacy object
			// did not mean.
			return nil
		}
		out = append(out, t)
	}
	return out
}

func downTolerations(in []corev1.Toleration) []runtime.RawExtension {
	if in == nil {
		return nil
	}
	out := make([]runtime.RawExtension, len(in))
	for i := range in {
		out[i] = *rawOf(&in[i])
	}
	return out
}

// rawOf cannot fail: core/v1 types always encode.
func rawOf(v any) *runtime.RawExtension {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &runtime.RawExtension{Raw: b}
}

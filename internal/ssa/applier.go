// Package ssa applies child objects with server-side apply and skips applies
// that cannot change anything, so that a steady state makes no API writes.
package ssa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Applier server-side applies objects under one field manager. It remembers,
// for each object, the hash of the last configuration it applied and the
// version the server answered with (generation, or resourceVersion for kinds
// without one). When neither the desired configuration nor the object has
// changed since, the apply would be a no-op and is skipped. A change to the
// object's spec by anyone makes the next reconcile apply again, so drift is
// corrected. This is Cluster API's "SSA caching proxy" idea.
//
// Kinds without a generation (claims, Secrets, Services) change their
// resourceVersion on every status or metadata write by others: a claim is
// bound, an Ingress gets its address. For those (and whenever the version
// moved) the apply is also skipped when the object already holds every
// value of the identical configuration last applied (see contains): the
// apply would change nothing. Without that, each of those writes cost one
// more apply per reconcile while many instances converge.
type Applier struct {
	Client       client.Client
	FieldManager string

	mu    sync.Mutex
	known map[cacheKey]cacheEntry
}

type cacheKey struct {
	kind string
	key  types.NamespacedName
}

type cacheEntry struct {
	hash string
	// version is the object's generation when it has one, else its
	// resourceVersion: status updates (a Deployment's, many times during a
	// rollout) do not change the generation, so they do not force an apply.
	version string
}

func versionOf(generation int64, resourceVersion string) string {
	if generation > 0 {
		return fmt.Sprintf("g%d", generation)
	}
	return "rv" + resourceVersion
}

// NewApplier returns an Applier writing as fieldManager.
func NewApplier(c client.Client, fieldManager string) *Applier {
	return &Applier{Client: c, FieldManager: fieldManager, known: map[cacheKey]cacheEntry{}}
}

// Apply applies desired unless the object observed in the cache (current,
// nil when absent) is exactly what the previous identical apply produced. It
// reports whether a request was sent. When into is not nil it receives the
// object as the server returned it (or current when nothing was sent), which
// is fresher than the cache right after a change.
func (a *Applier) Apply(ctx context.Context, kind string, desired runtime.ApplyConfiguration, current, into client.Object) (bool, error) {
	body, err := json.Marshal(desired)
	if err != nil {
		return false, fmt.Errorf("encoding %s: %w", kind, err)
	}
	meta := objectMeta(body)
	k := cacheKey{kind: kind, key: types.NamespacedName{Namespace: meta.Namespace, Name: meta.Name}}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])

	if !isNil(current) {
		a.mu.Lock()
		entry, ok := a.known[k]
		a.mu.Unlock()
		if ok && entry.hash == hash && (entry.version == versionOf(current.GetGeneration(), current.GetResourceVersion()) || holds(current, body)) {
			if into != nil {
				return false, copyInto(current, into)
			}
			return false, nil
		}
	}

	if err := a.Client.Apply(ctx, desired, client.FieldOwner(a.FieldManager), client.ForceOwnership); err != nil {
		a.Forget(kind, k.key)
		return true, err
	}
	// Apply decodes the server's answer into desired.
	after, err := json.Marshal(desired)
	if err != nil {
		return true, fmt.Errorf("encoding applied %s: %w", kind, err)
	}
	a.mu.Lock()
	m := objectMeta(after)
	a.known[k] = cacheEntry{hash: hash, version: versionOf(m.Generation, m.ResourceVersion)}
	a.mu.Unlock()
	if into != nil {
		if err := json.Unmarshal(after, into); err != nil {
			return true, fmt.Errorf("decoding applied %s: %w", kind, err)
		}
	}
	return true, nil
}

// holds says whether current already has every value of the configuration
// body. It is only asked when body is the configuration last applied (same
// hash), so no field the operator stopped setting can be left over.
func holds(current client.Object, body []byte) bool {
	cur, err := json.Marshal(current)
	if err != nil {
		return false
	}
	var want, have map[string]any
	if json.Unmarshal(body, &want) != nil || json.Unmarshal(cur, &have) != nil {
		return false
	}
	// Objects read from the cache carry no apiVersion and kind.
	delete(want, "apiVersion")
	delete(want, "kind")
	return contains(have, want)
}

// contains says whether have holds want: every key of a map in want is in
// have with a value that contains want's; lists have the same length and
// contain element by element; other values are equal. Keys only have (the
// server's defaults, others' fields, status) are ignored. A value the
// server writes differently from the configuration (a quantity "2048Mi"
// stored as "2Gi") makes it false, so the apply is sent: never a wrong
// skip, only a needless apply.
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok || !contains(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}

// isNil also catches a typed nil pointer inside the interface.
func isNil(obj client.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func copyInto(from, into client.Object) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// Forget drops what is remembered about an object, e.g. after deleting it.
func (a *Applier) Forget(kind string, key types.NamespacedName) {
	a.mu.Lock()
	delete(a.known, cacheKey{kind: kind, key: key})
	a.mu.Unlock()
}

type metaOnly struct {
	Metadata struct {
		Name            string `json:"name"`
		Namespace       string `json:"namespace"`
		ResourceVersion string `json:"resourceVersion"`
		Generation      int64  `json:"generation"`
	} `json:"metadata"`
}

type appliedMeta struct {
	Name, Namespace, ResourceVersion string
	Generation                       int64
}

func objectMeta(body []byte) appliedMeta {
	var parsed metaOnly
	_ = json.Unmarshal(body, &parsed)
	return appliedMeta{parsed.Metadata.Name, parsed.Metadata.Namespace, parsed.Metadata.ResourceVersion, parsed.Metadata.Generation}
}

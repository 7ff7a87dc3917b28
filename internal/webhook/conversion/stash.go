package conversion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DataAnnotation holds what one version of an object cannot represent of the
// other, as JSON (see stash). Like Cluster API's cluster.x-k8s.io/conversion-data.
const DataAnnotation = "bemade.org/conversion-data"

// stash is the content of DataAnnotation.
type stash struct {
	// Spoke are the spoke fields the hub cannot represent. Set on the hub by
	// up-conversion, used by down-conversion.
	Spoke []entry `json:"spoke,omitempty"`
	// Hub are the hub fields the spoke cannot represent. Set on a spoke by
	// down-conversion, used by up-conversion.
	Hub []entry `json:"hub,omitempty"`
	// Unset are spoke fields (JSON pointers) that were absent when the hub was
	// converted to the spoke and that the spoke's schema defaults. The API server
	// adds those defaults when the spoke is written back; up-conversion removes
	// them again while they hold the default value. Set on a spoke.
	Unset []string `json:"unset,omitempty"`
}

// entry is one stored field: where it is (a JSON pointer into the object's
// {"spec": ..., "status": ...}), its value on the side it was stored from, and
// the value the other side converted it to. A missing Value or From means the
// field was absent.
type entry struct {
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
	From  json.RawMessage `json:"from,omitempty"`
}

// node is a JSON value that may be absent.
type node struct {
	v  any
	ok bool
}

var absent = node{}

func present(v any) node { return node{v: v, ok: true} }

func (n node) equal(o node) bool {
	if n.ok != o.ok {
		return false
	}
	return !n.ok || reflect.DeepEqual(n.v, o.v)
}

func (n node) object() (map[string]any, bool) {
	if !n.ok {
		return nil, false
	}
	m, ok := n.v.(map[string]any)
	return m, ok
}

func (n node) child(key string) node {
	m, ok := n.object()
	if !ok {
		return absent
	}
	v, ok := m[key]
	return node{v: v, ok: ok}
}

func (n node) raw() (json.RawMessage, error) {
	if !n.ok {
		return nil, nil
	}
	return json.Marshal(n.v)
}

func nodeFromRaw(raw json.RawMessage) (node, error) {
	if len(raw) == 0 {
		return absent, nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return absent, err
	}
	return present(v), nil
}

// toTree encodes v as a generic JSON value. Numbers stay json.Number, so int64
// fields keep their precision.
func toTree(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%T is not a JSON object", v)
	}
	return m, nil
}

// fromTree decodes a generic JSON value into into, which must be a pointer to a
// zero value (json.Unmarshal merges into maps that already exist).
func fromTree(tree map[string]any, into any) error {
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// diff lists the fields where value differs from base, as entries that turn
// base into value. It descends into objects present on both sides and stops at
// the first difference otherwise; arrays are compared whole.
func diff(value, base map[string]any) ([]entry, error) {
	var out []entry
	if err := diffNode("", present(value), present(base), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func diffNode(path string, value, base node, out *[]entry) error {
	if value.equal(base) {
		return nil
	}
	vm, vok := value.object()
	bm, bok := base.object()
	if vok && bok {
		keys := make([]string, 0, len(vm)+len(bm))
		for k := range vm {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, dup := vm[k]; !dup {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := diffNode(path+"/"+escapePointer(k), value.child(k), base.child(k), out); err != nil {
				return err
			}
		}
		return nil
	}
	v, err := value.raw()
	if err != nil {
		return err
	}
	f, err := base.raw()
	if err != nil {
		return err
	}
	*out = append(*out, entry{Path: path, Value: v, From: f})
	return nil
}

// apply restores entries into tree. An entry's value replaces the field only
// where the field still holds the entry's From value; where it does not, the
// change made since wins (objects are merged key by key). An entry whose parent
// object is gone (removed since) is skipped.
func apply(tree map[string]any, entries []entry) error {
	for _, e := range entries {
		segs, err := parsePointer(e.Path)
		if err != nil {
			return err
		}
		if len(segs) == 0 {
			return fmt.Errorf("entry without a path")
		}
		parent, ok := lookupObject(tree, segs[:len(segs)-1])
		if !ok {
			continue
		}
		key := segs[len(segs)-1]
		value, err := nodeFromRaw(e.Value)
		if err != nil {
			return err
		}
		from, err := nodeFromRaw(e.From)
		if err != nil {
			return err
		}
		cur, found := parent[key]
		res := merge3(from, node{v: cur, ok: found}, value)
		if res.ok {
			parent[key] = res.v
		} else {
			delete(parent, key)
		}
	}
	return nil
}

// merge3 returns stored when current still equals from (nothing changed since
// stored was recorded), current when it changed, and merges key by key when
// current and from are both objects.
func merge3(from, current, stored node) node {
	if current.equal(from) {
		return stored
	}
	cm, cok := current.object()
	fm, fok := from.object()
	sm, sok := stored.object()
	if !cok || !fok || (stored.ok && !sok) {
		return current
	}
	out := make(map[string]any, len(cm))
	for k, v := range cm {
		out[k] = v
	}
	for _, keys := range []map[string]any{fm, sm} {
		for k := range keys {
			r := merge3(from.child(k), current.child(k), stored.child(k))
			if r.ok {
				out[k] = r.v
			} else {
				delete(out, k)
			}
		}
	}
	if !stored.ok && len(out) == 0 {
		return absent
	}
	return present(out)
}

func lookupObject(tree map[string]any, segs []string) (map[string]any, bool) {
	cur := tree
	for _, s := range segs {
		next, ok := cur[s].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func lookup(tree map[string]any, segs []string) node {
	parent, ok := lookupObject(tree, segs[:len(segs)-1])
	if !ok {
		return absent
	}
	v, ok := parent[segs[len(segs)-1]]
	return node{v: v, ok: ok}
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("invalid JSON pointer %q", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

// popStash removes DataAnnotation from meta and returns its content. A value
// that does not parse (edited by hand) is dropped: the conversion then behaves
// as if nothing had been stored, which loses only what the annotation held.
func popStash(meta *metav1.ObjectMeta) stash {
	raw, ok := meta.Annotations[DataAnnotation]
	if !ok {
		return stash{}
	}
	delete(meta.Annotations, DataAnnotation)
	if len(meta.Annotations) == 0 {
		meta.Annotations = nil
	}
	var s stash
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return stash{}
	}
	return s
}

// putStash sets DataAnnotation on meta, or leaves it unset when s is empty.
func putStash(meta *metav1.ObjectMeta, s stash) error {
	if len(s.Spoke) == 0 && len(s.Hub) == 0 && len(s.Unset) == 0 {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[DataAnnotation] = string(b)
	return nil
}

package conversion

import (
	"context"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// spokeBody is the part of a legacy OdooInstance that conversion rewrites. v1
// and v1alpha1 share its JSON schema (TestSpokeSchemasIdentical), so v1 goes
// through it too.
type spokeBody struct {
	Spec   odoov1alpha1.OdooInstanceSpec   `json:"spec"`
	Status odoov1alpha1.OdooInstanceStatus `json:"status,omitzero"`
}

// v1Body is spokeBody with the v1 types.
type v1Body struct {
	Spec   odoov1.OdooInstanceSpec   `json:"spec"`
	Status odoov1.OdooInstanceStatus `json:"status,omitzero"`
}

// hubBody is the part of a v1alpha2 OdooInstance that conversion rewrites.
type hubBody struct {
	Spec   odoov1alpha2.OdooInstanceSpec   `json:"spec"`
	Status odoov1alpha2.OdooInstanceStatus `json:"status"`
}

type instanceConverter struct {
	opts Options
}

func (c *instanceConverter) v1alpha1ToHub(_ context.Context, src *odoov1alpha1.OdooInstance, dst *odoov1alpha2.OdooInstance) error {
	meta, hub, err := c.up(src.ObjectMeta, spokeBody{Spec: src.Spec, Status: src.Status})
	if err != nil {
		return fmt.Errorf("converting OdooInstance %s/%s from v1alpha1: %w", src.Namespace, src.Name, err)
	}
	dst.ObjectMeta, dst.Spec, dst.Status = meta, hub.Spec, hub.Status
	return nil
}

func (c *instanceConverter) hubToV1alpha1(_ context.Context, src *odoov1alpha2.OdooInstance, dst *odoov1alpha1.OdooInstance) error {
	meta, spoke, err := c.down(src.ObjectMeta, hubBody{Spec: src.Spec, Status: src.Status})
	if err != nil {
		return fmt.Errorf("converting OdooInstance %s/%s to v1alpha1: %w", src.Namespace, src.Name, err)
	}
	dst.ObjectMeta, dst.Spec, dst.Status = meta, spoke.Spec, spoke.Status
	return nil
}

func (c *instanceConverter) v1ToHub(_ context.Context, src *odoov1.OdooInstance, dst *odoov1alpha2.OdooInstance) error {
	var body spokeBody
	if err := recode(v1Body{Spec: src.Spec, Status: src.Status}, &body); err != nil {
		return err
	}
	meta, hub, err := c.up(src.ObjectMeta, body)
	if err != nil {
		return fmt.Errorf("converting OdooInstance %s/%s from v1: %w", src.Namespace, src.Name, err)
	}
	dst.ObjectMeta, dst.Spec, dst.Status = meta, hub.Spec, hub.Status
	return nil
}

func (c *instanceConverter) hubToV1(_ context.Context, src *odoov1alpha2.OdooInstance, dst *odoov1.OdooInstance) error {
	meta, spoke, err := c.down(src.ObjectMeta, hubBody{Spec: src.Spec, Status: src.Status})
	if err != nil {
		return fmt.Errorf("converting OdooInstance %s/%s to v1: %w", src.Namespace, src.Name, err)
	}
	var body v1Body
	if err := recode(spoke, &body); err != nil {
		return err
	}
	dst.ObjectMeta, dst.Spec, dst.Status = meta, body.Spec, body.Status
	return nil
}

// recode converts between two Go types of the same JSON schema.
func recode(in, out any) error {
	tree, err := toTree(in)
	if err != nil {
		return err
	}
	return fromTree(tree, out)
}

// up converts a legacy object to the hub.
func (c *instanceConverter) up(srcMeta metav1.ObjectMeta, src spokeBody) (metav1.ObjectMeta, hubBody, error) {
	meta := *srcMeta.DeepCopy()
	st := popStash(&meta)

	// Drop the spoke defaults the API server added to fields that were absent
	// when the hub was last converted to this spoke.
	spoke := src
	spokeTree, err := toTree(src)
	if err != nil {
		return meta, hubBody{}, err
	}
	removed := false
	for _, p := range st.Unset {
		d, ok := spokeDefaults[p]
		if !ok {
			continue
		}
		if n := lookup(spokeTree, d.segs); n.ok && reflect.DeepEqual(n.v, d.value) {
			parent, _ := lookupObject(spokeTree, d.segs[:len(d.segs)-1])
			delete(parent, d.segs[len(d.segs)-1])
			removed = true
		}
	}
	if removed {
		spoke = spokeBody{}
		if err := fromTree(spokeTree, &spoke); err != nil {
			return meta, hubBody{}, err
		}
	}

	hub, err := restore(c.upBody(spoke), st.Hub)
	if err != nil {
		return meta, hubBody{}, err
	}

	// Record what of the spoke the hub does not hold (including the absence of
	// the fields up-conversion filled).
	base, err := toTree(downBody(hub))
	if err != nil {
		return meta, hubBody{}, err
	}
	entries, err := diff(spokeTree, base)
	if err != nil {
		return meta, hubBody{}, err
	}
	return meta, hub, putStash(&meta, stash{Spoke: entries})
}

// down converts the hub to a legacy object.
func (c *instanceConverter) down(srcMeta metav1.ObjectMeta, src hubBody) (metav1.ObjectMeta, spokeBody, error) {
	meta := *srcMeta.DeepCopy()
	st := popStash(&meta)

	spoke, err := restore(downBody(src), st.Spoke)
	if err != nil {
		return meta, spokeBody{}, err
	}

	// Record what of the hub the spoke does not hold.
	base, err := toTree(c.upBody(spoke))
	if err != nil {
		return meta, spokeBody{}, err
	}
	hubTree, err := toTree(src)
	if err != nil {
		return meta, spokeBody{}, err
	}
	entries, err := diff(hubTree, base)
	if err != nil {
		return meta, spokeBody{}, err
	}

	// Record the spoke defaults the API server would add on a write through the
	// spoke that would change the hub.
	spokeTree, err := toTree(spoke)
	if err != nil {
		return meta, spokeBody{}, err
	}
	var unset []string
	for _, d := range legacySpokeDefaults {
		defaulted, applies := withSpokeDefault(spokeTree, spokeDefaults[d.path])
		if !applies {
			continue
		}
		var s spokeBody
		if err := fromTree(defaulted, &s); err != nil {
			return meta, spokeBody{}, err
		}
		after, err := toTree(c.upBody(s))
		if err != nil {
			return meta, spokeBody{}, err
		}
		if !reflect.DeepEqual(after, base) {
			unset = append(unset, d.path)
		}
	}
	return meta, spoke, putStash(&meta, stash{Hub: entries, Unset: unset})
}

// restore applies stored entries to a converted body. Entries that no longer
// fit the type (a hand-edited annotation) are ignored rather than failing the
// conversion: a failing conversion makes the object unreadable in every version.
func restore[T any](body T, entries []entry) (T, error) {
	if len(entries) == 0 {
		return body, nil
	}
	tree, err := toTree(body)
	if err != nil {
		return body, err
	}
	if restored, ok := applyTo[T](tree, entries); ok {
		return restored, nil
	}
	return body, nil
}

func applyTo[T any](tree map[string]any, entries []entry) (T, bool) {
	var out T
	if apply(tree, entries) != nil || fromTree(tree, &out) != nil {
		return out, false
	}
	return out, true
}

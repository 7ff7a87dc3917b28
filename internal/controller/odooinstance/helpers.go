package odooinstance

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// nilIfAbsent turns the empty object getOptional leaves for a missing object
// into nil, typed as the pointer the caller holds.
func nilIfAbsent[T client.Object](obj T) T {
	var zero T
	if obj.GetUID() == "" {
		return zero
	}
	return obj
}

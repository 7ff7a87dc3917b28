package odooinstance

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// writtenVersions remembers, per instance, the resourceVersion a reconcile
// read from the cache before it wrote the instance (finalizer, operation
// lock, status). Until the informer delivers that write, another event of a
// child can start a reconcile on the old copy: every phase would then run
// on a picture the operator itself already changed, and its status patch
// would only meet a conflict. While many instances converge that is one
// wasted reconcile and several API requests per write; the watch event of
// the write comes moments later and reconciles the instance anyway.
type writtenVersions struct {
	mu    sync.Mutex
	stale map[types.UID]string
}

// wrote records that the instance was written after being read at readRV.
func (w *writtenVersions) wrote(uid types.UID, readRV string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stale == nil {
		w.stale = map[types.UID]string{}
	}
	w.stale[uid] = readRV
}

// behind says whether a copy at rv read from the cache predates the
// operator's last write to the instance. Any other version means the cache
// has moved on (to that write or past it), and the mark is dropped.
func (w *writtenVersions) behind(uid types.UID, rv string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, ok := w.stale[uid]
	if ok && old != rv {
		delete(w.stale, uid)
		return false
	}
	return ok
}

// forget drops the mark of a deleted instance.
func (w *writtenVersions) forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.stale, uid)
}

package manager

import (
	"os"
	"runtime/debug"
	"strconv"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// Most of the operator's live heap is its informer cache, objects that live
// as long as the instances do. Go's default (100) lets the heap grow by as
// much again before each collection: at 1,000 instances that headroom was
// 55 MB over a 55 MB live heap, most of the operator's RSS. 50 halves the
// headroom and, unlike a fixed GOMEMLIMIT, still grows with the cluster, so
// a bigger cache never makes the collector run without end. The price is
// more frequent collections while many objects change; a converged cluster
// allocates little, so little is spent there (docs/performance.md).
const defaultGCPercent = 50

// gcPercent is the collector target to set for the given GOGC environment
// value: none when the user chose one.
func gcPercent(gogc string) (int, bool) {
	if gogc != "" {
		return 0, false
	}
	return defaultGCPercent, true
}

// applyDefaultGCPercent sets defaultGCPercent unless GOGC is set, and
// returns the target in effect, for the log.
func applyDefaultGCPercent() string {
	p, ok := gcPercent(os.Getenv("GOGC"))
	if !ok {
		return "GOGC=" + os.Getenv("GOGC")
	}
	debug.SetGCPercent(p)
	return strconv.Itoa(p)
}

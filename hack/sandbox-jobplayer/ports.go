package main

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// portPool hands out the loopback ports real Odoo web pods listen on
// (127.0.0.1:31000-31499 by default, the sandbox's "tenant-reachable"
// range), one set per pod.
type portPool struct {
	lo, hi int
	mu     sync.Mutex
	owner  map[int]types.UID
}

func newPortPool(lo, hi int) *portPool {
	return &portPool{lo: lo, hi: hi, owner: map[int]types.UID{}}
}

// take gives uid a free port: want (the one recorded on the pod by an
// earlier player) when it is still free, else the first one free in the
// pool and bindable on the host.
func (pp *portPool) take(uid types.UID, want int) (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if want >= pp.lo && want <= pp.hi && pp.owner[want] == "" && bindable(want) {
		pp.owner[want] = uid
		return want, nil
	}
	for p := pp.lo; p <= pp.hi; p++ {
		if pp.owner[p] == "" && bindable(p) {
			pp.owner[p] = uid
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port left in 127.0.0.1:%d-%d", pp.lo, pp.hi)
}

// release frees every port of uid.
func (pp *portPool) release(uid types.UID) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for p, u := range pp.owner {
		if u == uid {
			delete(pp.owner, p)
		}
	}
}

func bindable(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

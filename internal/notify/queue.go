package notify

import (
	"container/heap"
	"time"
)

// delivery is one queued notification. It holds the encoded body and its
// signature, never the key: the key is used once in Send and dropped.
type delivery struct {
	id       string
	typ      EventType
	instance Instance
	url      string // as given; only used to build the request
	logURL   string // scheme://host, the only form that reaches logs and errors
	body     []byte
	sig      string // HeaderSignature value, "" when unsigned

	seq      uint64    // order of Send, kept across retries: lower is older
	due      time.Time // not before
	attempts int
	index    int // position in the heap
}

// deliveryHeap orders pending deliveries by due time, then by age. Fresh
// deliveries are due at once and retries later, so one heap serves both as
// the work queue and as the retry timer, and a delivery waiting to be retried
// holds no worker.
type deliveryHeap []*delivery

var _ heap.Interface = (*deliveryHeap)(nil)

func (h deliveryHeap) Len() int { return len(h) }

func (h deliveryHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}

func (h deliveryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *deliveryHeap) Push(x any) {
	d := x.(*delivery)
	d.index = len(*h)
	*h = append(*h, d)
}

func (h *deliveryHeap) Pop() any {
	old := *h
	n := len(old)
	d := old[n-1]
	old[n-1] = nil
	d.index = -1
	*h = old[:n-1]
	return d
}

// oldest returns the index of the delivery sent first, the one to drop when
// the queue overflows: the newest events describe the instance as it is now,
// and the oldest pending delivery is usually one a dead receiver keeps
// failing. A linear scan is fine: it only runs when the queue is full, and
// the queue is small.
func (h deliveryHeap) oldest() int {
	o := 0
	for i := range h {
		if h[i].seq < h[o].seq {
			o = i
		}
	}
	return o
}

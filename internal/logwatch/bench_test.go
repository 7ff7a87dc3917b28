package logwatch

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
)

// benchLog returns about 1 MiB of a realistic mixed log (see mixedLog),
// built on first use so plain test runs do not pay for it.
var benchLog = sync.OnceValue(func() []byte { return mixedLog(1 << 20) })

// BenchmarkParseClassify parses and classifies every record of the mixed
// log, as written by Odoo (kubectl logs) and as a CRI log file.
func BenchmarkParseClassify(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"plain", benchLog()},
		{"cri", []byte(criWrap(string(benchLog()), false))},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			r := bytes.NewReader(in.data)
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				r.Reset(in.data)
				p := NewParser(r)
				for rec, ok := p.Next(); ok; rec, ok = p.Next() {
					if Classify(rec) != Other {
						records++
					}
				}
			}
			if records == 0 {
				b.Fatal("nothing classified")
			}
		})
	}
}

// BenchmarkParseGigabyte streams 1 GiB of the mixed log through one Parser
// without holding it, and reports the highest heap in use while parsing and
// the bytes allocated per op.
func BenchmarkParseGigabyte(b *testing.B) {
	const size = 1 << 30
	b.SetBytes(size)
	var peak, base uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		pk, bs, st := peakHeap(b, &repeatReader{buf: benchLog(), n: size})
		peak, base = max(peak, pk), bs
		if st.Records == 0 {
			b.Fatal("no records")
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "heap-growth-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
}

package logwatch

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// samplesPath is a copy of shared/testdata/odoo-logs/samples.txt, which lies
// outside the repository; copy it again when the original changes.
const samplesPath = "testdata/samples.txt"

// sample is one "## N. heading" block of samples.txt with its lines between
// the -----BEGIN----- and -----END----- markers.
type sample struct {
	num     int
	heading string
	lines   []string
}

func (s sample) text() string { return strings.Join(s.lines, "\n") + "\n" }

func loadSamples(t testing.TB) []sample {
	t.Helper()
	data, err := os.ReadFile(samplesPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			num, heading, ok := strings.Cut(strings.TrimPrefix(l, "## "), ". ")
			n, err := strconv.Atoi(num)
			if !ok || err != nil {
				t.Fatalf("bad sample heading %q", l)
			}
			out = append(out, sample{num: n, heading: heading})
		case l == "-----BEGIN-----":
			in = true
		case l == "-----END-----":
			in = false
		case in:
			out[len(out)-1].lines = append(out[len(out)-1].lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no samples found")
	}
	return out
}

func parseAll(t testing.TB, r io.Reader) ([]Record, Stats) {
	t.Helper()
	p := NewParser(r)
	var recs []Record
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		recs = append(recs, rec)
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, p.Stats()
}

func parseString(t testing.TB, s string) []Record {
	t.Helper()
	recs, _ := parseAll(t, strings.NewReader(s))
	return recs
}

// criWrap prefixes every line of s the way a container runtime writes it to
// the log file. With split, lines are also cut into a P and an F record.
func criWrap(s string, split bool) string {
	var b strings.Builder
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		stamp := ts.Add(time.Duration(i) * 10 * time.Millisecond).Format(time.RFC3339Nano)
		if split && len(l) > 10 {
			fmt.Fprintf(&b, "%s stderr P %s\n", stamp, l[:len(l)/2])
			l = l[len(l)/2:]
		}
		fmt.Fprintf(&b, "%s stderr F %s\n", stamp, l)
	}
	return b.String()
}

// mixedLog returns about size bytes of a realistic production log: mostly
// werkzeug request lines and INFO records, some warnings, bad queries with
// psycopg's lines and ERROR records with tracebacks, in proportions seen on
// busy instances. It is deterministic.
func mixedLog(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	ts := time.Date(2026, 3, 16, 17, 46, 54, 0, time.UTC)
	var b bytes.Buffer
	b.Grow(size + 4096)
	paths := []string{
		"POST /web/dataset/call_kw/sale.order/web_read HTTP/1.1",
		"GET /web/webclient/load_menus/afd6d33d3fbcefc9423e472b37086e7fbbaf9537dcc9bffd695bfcb14397aeb2 HTTP/1.1",
		"POST /mail/data HTTP/1.1",
		"GET /web/image/res.partner/7/avatar_128 HTTP/1.1",
		"GET /websocket?version=18.0-3 HTTP/1.1",
	}
	for b.Len() < size {
		ts = ts.Add(time.Duration(rng.IntN(40)) * time.Millisecond)
		prefix := ts.Format("2006-01-02 15:04:05,000") + " " + strconv.Itoa(20+rng.IntN(8))
		switch n := rng.IntN(100); {
		case n < 60:
			fmt.Fprintf(&b, "%s INFO prod werkzeug: 10.0.%d.%d - - [%s] \"%s\" 200 - %d %.3f %.3f\n",
				prefix, rng.IntN(255), rng.IntN(255), ts.Format("02/Jan/2006 15:04:05"),
				paths[rng.IntN(len(paths))], rng.IntN(90), rng.Float64()/10, rng.Float64())
		case n < 75:
			fmt.Fprintf(&b, "%s INFO prod odoo.addons.base.models.ir_cron: Job 'Mail: Email Queue Manager' (%d) done in %.3fs \n",
				prefix, rng.IntN(40), rng.Float64())
		case n < 80:
			fmt.Fprintf(&b, "%s INFO prod odoo.models.unlink: User #2 deleted ir.attachment records with IDs: [%d, %d] \n",
				prefix, rng.IntN(1e6), rng.IntN(1e6))
		case n < 86:
			fmt.Fprintf(&b, "%s WARNING prod odoo.http: You are not allowed to access 'Settings' (asterisk_plus.settings) records. \n", prefix)
		case n < 89:
			fmt.Fprintf(&b, "%s INFO prod odoo.service.model: SERIALIZATION_FAILURE, %d tries left, try again in %.4f sec... \n",
				prefix, rng.IntN(5), rng.Float64()*2)
		case n < 91:
			fmt.Fprintf(&b, "%s INFO prod odoo.service.server: Worker (%d) virtual memory limit (%d) reached. \n",
				prefix, rng.IntN(9000), 400e6+rng.IntN(1e8))
		case n < 95:
			fmt.Fprintf(&b, "%s ERROR prod odoo.sql_db: bad query: b'SELECT \"res_lang\".\"id\", \"res_lang\".\"name\" FROM \"res_lang\" WHERE \"res_lang\".\"id\" IN (%d)'\n"+
				"ERROR: column res_lang.short_date_format does not exist\n"+
				"LINE 1: ...\"res_lang\".\"direction\", \"res_lang\".\"date_format\", \"res_lang\"...\n"+
				"                                                             ^\n"+
				"HINT:  Perhaps you meant to reference the column \"res_lang.short_time_format\".\n\n", prefix, rng.IntN(100))
		default:
			fmt.Fprintf(&b, "%s ERROR prod odoo.http: Exception during request handling. \nTraceback (most recent call last):\n", prefix)
			for i := 0; i < 6; i++ {
				fmt.Fprintf(&b, "  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line %d, in _serve_db\n"+
					"    return service_model.retrying(self._serve_ir_http, self.env)\n", 1700+rng.IntN(500))
			}
			b.WriteString("psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout\n")
		}
	}
	return b.Bytes()
}

// repeatReader streams its buffer over and over until n bytes were read, so
// gigabytes can be parsed without holding them.
type repeatReader struct {
	buf []byte
	off int
	n   int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	k := copy(p, r.buf[r.off:])
	r.off = (r.off + k) % len(r.buf)
	r.n -= int64(k)
	return k, nil
}

// heapSampler passes reads through and records the highest HeapInuse,
// sampled every 4 MiB read, so a record that spans the whole input is
// measured while it is being read.
type heapSampler struct {
	r          io.Reader
	read, next int64
	peak       uint64
}

func (h *heapSampler) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.read += int64(n); h.read >= h.next {
		h.next += 4 << 20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapInuse)
	}
	return n, err
}

// peakHeap parses r, classifying every record, and returns the highest
// HeapInuse seen while reading and the HeapInuse before, plus the stats.
func peakHeap(t testing.TB, r io.Reader) (peak, base uint64, st Stats) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h := &heapSampler{r: r, peak: ms.HeapInuse}
	p := NewParser(h)
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		Classify(rec)
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	return h.peak, ms.HeapInuse, p.Stats()
}

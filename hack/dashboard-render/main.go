// Command dashboard-render draws a Grafana dashboard's panels into one PNG
// from scraped Prometheus text files, with no Grafana and no Prometheus
// server: the samples are loaded into a Prometheus TSDB in a temporary
// directory, each panel's PromQL is evaluated by Prometheus' own engine over
// the scrape window, and gonum/plot draws the series at the panels' grid
// positions. Every panel is drawn as a time series.
//
// Usage:
//
//	go run . -dashboard ../../config/grafana/odoo-operator.json -scrapes DIR -out ../../docs/images/dashboard.png
//
// DIR holds <unix-ms>.prom files (hack/dashboard-render/scrape.sh).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type dashboard struct {
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string `json:"title"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit   string `json:"unit"`
			Custom struct {
				Stacking struct {
					Mode string `json:"mode"`
				} `json:"stacking"`
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

func main() {
	dashPath := flag.String("dashboard", "config/grafana/odoo-operator.json", "Grafana dashboard JSON")
	scrapes := flag.String("scrapes", "", "directory of <unix-ms>.prom scrape files")
	out := flag.String("out", "docs/images/dashboard.png", "PNG to write")
	step := flag.Duration("step", 15*time.Second, "evaluation step")
	flag.Parse()
	if err := run(*dashPath, *scrapes, *out, *step); err != nil {
		log.Fatal(err)
	}
}

func run(dashPath, scrapes, out string, step time.Duration) error {
	raw, err := os.ReadFile(dashPath) //nolint:gosec // a tool's input
	if err != nil {
		return err
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%s: %w", dashPath, err)
	}
	tmp, err := os.MkdirTemp("", "dashboard-render-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	db, err := tsdb.Open(tmp, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	start, end, n, err := load(db, scrapes)
	if err != nil {
		return err
	}
	log.Printf("loaded %d samples from %s .. %s", n, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))

	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	const colW, rowH = 80, 34 // pixels per grid column / row
	maxY := 0
	for _, p := range d.Panels {
		maxY = max(maxY, p.GridPos.Y+p.GridPos.H)
	}
	titleH := 50
	width, height := 24*colW, maxY*rowH+titleH
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(vg.Length(width)*vg.Inch/96, vg.Length(height)*vg.Inch/96), vgimg.UseDPI(96))}
	dc := draw.New(c)
	dc.SetColor(color.RGBA{R: 0xf4, G: 0xf5, B: 0xf5, A: 0xff})
	dc.Fill(dc.Rectangle.Path())
	px := func(v int) vg.Length { return vg.Length(v) * vg.Inch / 96 }
	// Title line.
	hdr := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 20), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	dc.FillText(hdr, vg.Point{X: px(16), Y: px(height - titleH/2)},
		fmt.Sprintf("%s — rendered from the sandbox's /metrics, %s to %s UTC", d.Title, start.UTC().Format("2006-01-02 15:04"), end.UTC().Format("15:04")))

	for _, p := range d.Panels {
		pl, err := panelPlot(eng, db, p, start, end, step)
		if err != nil {
			return fmt.Errorf("panel %q: %w", p.Title, err)
		}
		x0, x1 := px(p.GridPos.X*colW+6), px((p.GridPos.X+p.GridPos.W)*colW-6)
		yTop := height - titleH - p.GridPos.Y*rowH
		y0, y1 := px(yTop-p.GridPos.H*rowH+6), px(yTop-6)
		sub := draw.Crop(dc, x0, x1-dc.Max.X, y0, y1-dc.Max.Y)
		sub.SetColor(color.White)
		sub.Fill(sub.Rectangle.Path())
		pl.Draw(sub)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return err
	}
	f, err := os.Create(out) //nolint:gosec // a tool's output
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// load appends every scrape file's samples at the file's timestamp. Like
// Prometheus' scrape loop, it marks a series that was in the previous scrape
// and is missing from this one as stale, so that a gauge the operator stops
// serving (an operation that ended) ends there instead of lingering for the
// 5 minute lookback.
func load(db *tsdb.DB, dir string) (time.Time, time.Time, int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.prom"))
	if err != nil || len(files) == 0 {
		return time.Time{}, time.Time{}, 0, fmt.Errorf("no *.prom files in %q", dir)
	}
	sort.Strings(files)
	var first, last int64
	n := 0
	prev := map[string]labels.Labels{}
	for _, f := range files {
		ts, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), ".prom"), 10, 64)
		if err != nil {
			return time.Time{}, time.Time{}, 0, fmt.Errorf("%s: the name must be <unix-ms>.prom", f)
		}
		fh, err := os.Open(f) //nolint:gosec // a tool's input
		if err != nil {
			return time.Time{}, time.Time{}, 0, err
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(fh)
		_ = fh.Close()
		if err != nil {
			return time.Time{}, time.Time{}, 0, fmt.Errorf("%s: %w", f, err)
		}
		app := db.Appender(context.Background())
		cur := map[string]labels.Labels{}
		add := func(name string, lbls map[string]string, extra map[string]string, v float64) error {
			m := map[string]string{"__name__": name, "job": "odoo-operator", "instance": "sandbox"}
			for k, x := range lbls {
				m[k] = x
			}
			for k, x := range extra {
				m[k] = x
			}
			ls := labels.FromMap(m)
			cur[ls.String()] = ls
			_, err := app.Append(0, ls, ts, v)
			n++
			return err
		}
		for name, mf := range mfs {
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				var err error
				switch {
				case m.GetCounter() != nil:
					err = add(name, l, nil, m.GetCounter().GetValue())
				case m.GetGauge() != nil:
					err = add(name, l, nil, m.GetGauge().GetValue())
				case m.GetUntyped() != nil:
					err = add(name, l, nil, m.GetUntyped().GetValue())
				case m.GetHistogram() != nil:
					h := m.GetHistogram()
					for _, b := range h.GetBucket() {
						if err = add(name+"_bucket", l, map[string]string{"le": formatLE(b.GetUpperBound())}, float64(b.GetCumulativeCount())); err != nil {
							break
						}
					}
					if err == nil {
						err = add(name+"_bucket", l, map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
					}
					if err == nil {
						err = add(name+"_sum", l, nil, h.GetSampleSum())
					}
					if err == nil {
						err = add(name+"_count", l, nil, float64(h.GetSampleCount()))
					}
				case m.GetSummary() != nil:
					s := m.GetSummary()
					if err = add(name+"_sum", l, nil, s.GetSampleSum()); err == nil {
						err = add(name+"_count", l, nil, float64(s.GetSampleCount()))
					}
				}
				if err != nil {
					return time.Time{}, time.Time{}, 0, fmt.Errorf("%s: %s: %w", f, name, err)
				}
			}
		}
		for k, ls := range prev {
			if _, ok := cur[k]; !ok {
				if _, err := app.Append(0, ls, ts, math.Float64frombits(value.StaleNaN)); err != nil {
					return time.Time{}, time.Time{}, 0, err
				}
			}
		}
		prev = cur
		if err := app.Commit(); err != nil {
			return time.Time{}, time.Time{}, 0, err
		}
		if first == 0 {
			first = ts
		}
		last = ts
	}
	return time.UnixMilli(first), time.UnixMilli(last), n, nil
}

func formatLE(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Grafana's variables, as "All" would expand them.
var variables = strings.NewReplacer(`$namespace`, `.*`, `$instance`, `.*`, `$__rate_interval`, `1m`, `${datasource}`, ``)

var legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// panelPlot evaluates a panel's targets and draws their series.
func panelPlot(eng *promql.Engine, db *tsdb.DB, p panel, start, end time.Time, step time.Duration) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.Title.TextStyle.Font.Size = vg.Points(13)
	pl.X.Tick.Marker = plot.TimeTicks{Format: "15:04", Time: func(t float64) time.Time { return time.Unix(int64(t), 0).UTC() }}
	pl.Y.Tick.Marker = unitTicks{unit: p.FieldConfig.Defaults.Unit}
	pl.X.Tick.Label.Font.Size = vg.Points(9)
	pl.Y.Tick.Label.Font.Size = vg.Points(9)
	pl.Legend.Top = true
	pl.Legend.TextStyle.Font.Size = vg.Points(8)
	pl.Add(plotter.NewGrid())
	pl.X.Min, pl.X.Max = float64(start.Unix()), float64(end.Unix())
	pl.Y.Min = 0
	idx := 0
	stacked := p.FieldConfig.Defaults.Custom.Stacking.Mode == "normal"
	var below map[int64]float64
	if stacked {
		below = map[int64]float64{}
	}
	for _, t := range p.Targets {
		q, err := eng.NewRangeQuery(context.Background(), db, nil, variables.Replace(t.Expr), start, end, step)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Expr, err)
		}
		res := q.Exec(context.Background())
		if res.Err != nil {
			return nil, fmt.Errorf("%s: %w", t.Expr, res.Err)
		}
		m, err := res.Matrix()
		if err != nil {
			return nil, err
		}
		sort.Slice(m, func(i, j int) bool { return m[i].Metric.String() < m[j].Metric.String() })
		for _, s := range m {
			pts := make(plotter.XYs, 0, len(s.Floats))
			for _, f := range s.Floats {
				y := f.F
				if math.IsNaN(y) || math.IsInf(y, 0) { // Grafana leaves a gap
					continue
				}
				if stacked {
					y += below[f.T]
					below[f.T] = y
				}
				pts = append(pts, plotter.XY{X: float64(f.T) / 1000, Y: y})
			}
			if len(pts) == 0 {
				continue
			}
			col := plotutil.Color(idx)
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			line.Color, line.Width = col, vg.Points(1.6)
			pl.Add(line)
			if len(pts) == 1 {
				sc, _ := plotter.NewScatter(pts)
				sc.Color = col
				pl.Add(sc)
			}
			pl.Legend.Add(legend(t.LegendFormat, s.Metric), line)
			pl.Y.Max = math.Max(pl.Y.Max, maxY(pts))
			idx++
		}
		q.Close()
	}
	if idx == 0 {
		pl.Title.Text += " (no data)"
	}
	// Headroom for the legend (top right, about 11 px a line in a plot
	// area of about 200 px), so that it does not hide the lines.
	free := math.Max(1-float64(idx)*11/200-0.08, 0.35)
	pl.Y.Max = math.Max(pl.Y.Max/free, 1)
	return pl, nil
}

func maxY(pts plotter.XYs) float64 {
	m := 0.0
	for _, p := range pts {
		m = math.Max(m, p.Y)
	}
	return m
}

func legend(format string, l labels.Labels) string {
	if format == "" {
		return l.String()
	}
	return legendVar.ReplaceAllStringFunc(format, func(m string) string {
		return l.Get(legendVar.FindStringSubmatch(m)[1])
	})
}

// unitTicks labels the Y axis in the panel's Grafana unit.
type unitTicks struct{ unit string }

func (u unitTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = formatUnit(ticks[i].Value, u.unit)
		}
	}
	return ticks
}

func formatUnit(v float64, unit string) string {
	switch unit {
	case "s":
		switch {
		case v >= 3600:
			return num(v/3600) + " h"
		case v >= 60:
			return num(v/60) + " min"
		}
		return num(v) + " s"
	case "bytes":
		switch {
		case v >= 1<<20:
			return num(v/(1<<20)) + " MiB"
		case v >= 1<<10:
			return num(v/(1<<10)) + " KiB"
		}
		return num(v) + " B"
	case "d":
		return num(v) + " d"
	case "ops":
		return num(v) + "/s"
	}
	return num(v)
}

// num writes a tick value with three significant digits, without an
// exponent for values Grafana would write out (1000, not 1e+03).
func num(v float64) string {
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

package monitoring

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Chart is one metric's trend, laid out for an SVG drawn on the server:
// coordinates in the SVG's own units (W×H), readings oldest to newest.
type Chart struct {
	Metric     string
	Name       string
	Unit       string
	Points     string // polyline "x,y x,y ..."
	Dots       []Dot
	Thresholds []Line
	YTicks     []Line
	XTicks     []Line
	Latest     string
}

// Dot is one reading on the chart.
type Dot struct {
	X, Y  float64
	Label string
	Alert bool // beyond a threshold
}

// Line is a horizontal (threshold, y tick) or vertical (x tick) guide.
type Line struct {
	X, Y  float64
	Label string
}

// Chart geometry: the plot area inside the SVG.
const (
	chartW, chartH         = 640.0, 220.0
	padL, padR, padT, padB = 48.0, 12.0, 12.0, 28.0
)

// buildCharts lays out one chart per metric over [from, to].
func buildCharts(readings []store.Reading, rules []store.AlertRule, defs map[string]*store.MetricDefinition, from, to time.Time, loc *time.Location) []Chart {
	byMetric := map[string][]store.Reading{}
	for _, r := range readings {
		if r.MetricKey != "" {
			byMetric[r.MetricKey] = append(byMetric[r.MetricKey], r)
		}
	}
	keys := make([]string, 0, len(byMetric))
	for k := range byMetric {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Chart
	for _, k := range keys {
		rs := byMetric[k]
		sort.Slice(rs, func(i, j int) bool { return rs[i].MeasuredAt.Before(rs[j].MeasuredAt) })
		var th []store.AlertRule
		for _, r := range rules {
			if r.Kind == store.RuleThreshold && r.MetricKey == k {
				th = append(th, r)
			}
		}
		out = append(out, layoutChart(k, defs[k], rs, th, from, to, loc))
	}
	return out
}

func layoutChart(key string, def *store.MetricDefinition, rs []store.Reading, rules []store.AlertRule, from, to time.Time, loc *time.Location) Chart {
	c := Chart{Metric: key, Name: key}
	if def != nil {
		c.Name, c.Unit = def.Name, def.Unit
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		lo, hi = min(lo, r.ValueNum), max(hi, r.ValueNum)
	}
	for _, r := range rules {
		lo, hi = min(lo, r.Threshold), max(hi, r.Threshold)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.1
	lo, hi = lo-pad, hi+pad
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(from).Seconds() / span
		return padL + math.Max(0, math.Min(1, f))*(chartW-padL-padR)
	}
	y := func(v float64) float64 { return padT + (hi-v)/(hi-lo)*(chartH-padT-padB) }
	var pts []string
	for _, r := range rs {
		px, py := round1(x(r.MeasuredAt)), round1(y(r.ValueNum))
		pts = append(pts, fmt.Sprintf("%g,%g", px, py))
		beyond := false
		for i := range rules {
			beyond = beyond || rules[i].Matches(r.ValueNum)
		}
		c.Dots = append(c.Dots, Dot{X: px, Y: py, Alert: beyond,
			Label: fmt.Sprintf("%s %s at %s", r.Value, r.Unit, r.MeasuredAt.In(loc).Format("2 Jan 15:04"))})
	}
	c.Points = strings.Join(pts, " ")
	for _, r := range rules {
		c.Thresholds = append(c.Thresholds, Line{Y: round1(y(r.Threshold)), Label: fmt.Sprintf("%s %g", r.Operator, r.Threshold)})
	}
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		c.YTicks = append(c.YTicks, Line{Y: round1(y(v)), Label: fmt.Sprintf("%.4g", v)})
	}
	days := int(to.Sub(from).Hours() / 24)
	step := max(1, days/6)
	for d := 0; d <= days; d += step {
		t := from.AddDate(0, 0, d)
		c.XTicks = append(c.XTicks, Line{X: round1(x(t)), Label: t.In(loc).Format("2 Jan")})
	}
	if len(rs) > 0 {
		last := rs[len(rs)-1]
		c.Latest = last.Value + " " + last.Unit
	}
	return c
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

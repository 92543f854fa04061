package admin

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// LeveyJennings draws a control series as an SVG Levey-Jennings chart:
// one point per run in time order, on a scale of the target's SD, with the
// mean and the ±1, ±2 and ±3 SD lines labelled in the target's units.
// Points are coloured by the run's Westgard status; each carries a
// tooltip with the value as the device sent it and the rules it broke.
// Runs that were not evaluated (no number) are left out of the line.
func LeveyJennings(runs []store.QCRunRecord, t *store.QCTarget, title string) string {
	const (
		w, h         = 720, 260
		left, right  = 88, 16
		top, bottom  = 28, 30
		plotW, plotH = w - left - right, h - top - bottom
		limit        = 4.0 // SD shown above and below the mean
	)
	y := func(z float64) float64 {
		z = math.Max(-limit, math.Min(limit, z))
		return top + plotH/2 - z*plotH/(2*limit)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="lj-chart" role="img" aria-label="%s">`,
		w, h, html.EscapeString("Levey-Jennings chart: "+title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#fff" stroke="#c9d1d9"/>`, left, top, plotW, plotH)
	// Bands: within 2 SD white, 2-3 SD pale amber, beyond 3 SD pale red.
	for _, band := range []struct {
		from, to float64
		fill     string
	}{{2, 3, "#fff6e0"}, {-3, -2, "#fff6e0"}, {3, limit, "#fdecea"}, {-limit, -3, "#fdecea"}} {
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"/>`, left, y(band.to), plotW, y(band.from)-y(band.to), band.fill)
	}
	for _, l := range []struct {
		z     float64
		label string
		color string
		dash  string
	}{{3, "+3 SD", "#a4161a", ""}, {2, "+2 SD", "#b36b00", "6 4"}, {1, "+1 SD", "#9aa5b1", "2 4"}, {0, "mean", "#1e6b34", ""},
		{-1, "-1 SD", "#9aa5b1", "2 4"}, {-2, "-2 SD", "#b36b00", "6 4"}, {-3, "-3 SD", "#a4161a", ""}} {
		yy := y(l.z)
		dash := ""
		if l.dash != "" {
			dash = ` stroke-dasharray="` + l.dash + `"`
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"%s/>`, left, yy, left+plotW, yy, l.color, dash)
		label := l.label
		if t != nil {
			label = fmt.Sprintf("%s %s", l.label, trimFloat(t.Mean+l.z*t.SD))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#4a5560">%s</text>`, left-6, yy+4, html.EscapeString(label))
	}
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" font-weight="600" fill="#1b2733">%s</text>`, left, html.EscapeString(title))
	var pts []string
	n := len(runs)
	step := float64(plotW) / float64(max(n, 2)-1)
	if n == 1 {
		step = 0
	}
	for i, r := range runs {
		if r.Z == nil {
			continue
		}
		x := float64(left) + float64(i)*step
		if n == 1 {
			x = float64(left) + float64(plotW)/2
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y(*r.Z)))
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#0b5cad" stroke-width="1.5"/>`, strings.Join(pts, " "))
	}
	// Only the newest rejected run is labelled with its rules (labels of
	// neighbouring runs would overlap); every point has them in its tooltip.
	lastRejected := -1
	for i, r := range runs {
		if r.Z != nil && r.Status == store.QCRejected {
			lastRejected = i
		}
	}
	for i, r := range runs {
		if r.Z == nil {
			continue
		}
		x := float64(left) + float64(i)*step
		if n == 1 {
			x = float64(left) + float64(plotW)/2
		}
		color, radius := "#0b5cad", 4
		switch r.Status {
		case store.QCWarning:
			color, radius = "#b36b00", 5
		case store.QCRejected:
			color, radius = "#a4161a", 6
		}
		tip := fmt.Sprintf("%s %s %s (%+.2f SD)", r.MeasuredAt.Local().Format("2006-01-02 15:04"), r.Value, r.Unit, *r.Z)
		if len(r.Rules) > 0 {
			tip += " violates " + strings.Join(r.Rules, ", ")
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%d" fill="%s" stroke="#fff" stroke-width="1" data-status="%s"><title>%s</title></circle>`,
			x, y(*r.Z), radius, color, r.Status, html.EscapeString(tip))
		if i == lastRejected {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#a4161a">%s</text>`,
				x-9, y(*r.Z)+4, html.EscapeString(strings.Join(r.Rules, " ")))
		}
	}
	if len(runs) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#4a5560">%s</text>`, left, h-10,
			html.EscapeString(runs[0].MeasuredAt.Local().Format("2006-01-02 15:04")))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#4a5560">%s</text>`, left+plotW, h-10,
			html.EscapeString(runs[len(runs)-1].MeasuredAt.Local().Format("2006-01-02 15:04")))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

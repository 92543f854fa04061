package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Results prints a patient's results over a period: per code, a trend
// chart (reference range shaded) and a table of every value exactly as
// recorded. obs come ordered by code and time (store.PatientResults); from
// and last are the first and last day of the period.
func (PDF) Results(org *store.Org, p *store.Patient, from, last time.Time, loc *time.Location, obs []store.Observation, lang string, printedAt time.Time) ([]byte, error) {
	t := textFor(lang)
	printed := t.dateTime(printedAt, loc)
	groups := groupByCode(obs)
	end := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	d := newDoc(t, org.Name, t.ResultsReport, printed)
	{
		d.AddPage()
		d.SetFont(fontFamily, "B", 16)
		d.MultiCell(contentW, 8, p.DisplayName(), "", "L", false)
		d.Ln(1)
		d.fields(38, [][2]string{
			{t.BirthDate, p.BirthDate},
			{t.NationalID, p.NationalID},
			{t.MRN, p.MRN},
			{t.Period, from.In(loc).Format(t.Date) + " – " + last.In(loc).Format(t.Date)},
		})
		if len(groups) == 0 {
			d.heading(t.Results, 10)
			d.SetFont(fontFamily, "", 10)
			d.MultiCell(contentW, 5, t.NoResults, "", "L", false)
		}
		for _, g := range groups {
			o := g[0]
			title := obsName(o)
			if u := firstUnit(g); u != "" {
				title += " · " + u
			}
			d.heading(title, 70)
			d.chart(g, from, end, loc)
			rows := make([][]string, len(g))
			for i, o := range g {
				rows[i] = []string{obsWhen(o, loc, t), o.Value, o.Unit, o.ReferenceRange, o.Flags, o.Status}
			}
			d.table([]float64{34, 34, 28, 36, 20, 28}, []string{t.Measured, t.Value, t.Unit, t.Range, t.Flags, t.ObsStatus}, rows, nil)
		}
	}
	return d.output()
}

// groupByCode splits observations (ordered by code) into runs of one code.
func groupByCode(obs []store.Observation) [][]store.Observation {
	var out [][]store.Observation
	for i := 0; i < len(obs); {
		j := i + 1
		for j < len(obs) && obs[j].Code == obs[i].Code && obs[j].CodeSystem == obs[i].CodeSystem {
			j++
		}
		out = append(out, obs[i:j])
		i = j
	}
	return out
}

func firstUnit(g []store.Observation) string {
	for _, o := range g {
		if o.Unit != "" {
			return o.Unit
		}
	}
	return ""
}

// obsWhen is when an observation was measured, as printed.
func obsWhen(o store.Observation, loc *time.Location, t *pdfText) string {
	switch {
	case !o.MeasuredAt.IsZero():
		return t.dateTime(o.MeasuredAt, loc)
	case o.MeasuredAtText != "":
		return o.MeasuredAtText
	}
	return t.dateTime(o.CreatedAt, loc)
}

func obsTime(o store.Observation) time.Time {
	if !o.MeasuredAt.IsZero() {
		return o.MeasuredAt
	}
	return o.CreatedAt
}

// numeric reads a value for plotting: "5.2", "5,2", and censored values
// such as "<0,5" or ">10" (plotted at their bound, marked as such).
func numeric(s string) (v float64, censored, ok bool) {
	s = strings.TrimSpace(s)
	for _, p := range []string{"<=", ">=", "≤", "≥", "<", ">"} {
		if strings.HasPrefix(s, p) {
			s, censored = strings.TrimSpace(strings.TrimPrefix(s, p)), true
			break
		}
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, false
	}
	return f, censored, true
}

// refRange reads a reference range as instruments send it: "3.5-5.0",
// "3,5–5,0", "3.5 - 5.0", "<5", ">10". lo/hi are NaN when open.
func refRange(s string) (lo, hi float64, ok bool) {
	s = strings.TrimSpace(s)
	lo, hi = math.NaN(), math.NaN()
	if s == "" {
		return lo, hi, false
	}
	if v, _, ok := numeric(strings.TrimLeft(s, "<≤=")); ok && (strings.HasPrefix(s, "<") || strings.HasPrefix(s, "≤")) {
		return lo, v, true
	}
	if v, _, ok := numeric(strings.TrimLeft(s, ">≥=")); ok && (strings.HasPrefix(s, ">") || strings.HasPrefix(s, "≥")) {
		return v, hi, true
	}
	for _, sep := range []string{" - ", "–", "—", " to ", "-"} {
		// A leading minus is a sign, not the separator.
		if i := strings.Index(s[1:], sep); i >= 0 {
			a, _, ok1 := numeric(s[:i+1])
			b, _, ok2 := numeric(s[i+1+len(sep):])
			if ok1 && ok2 && a <= b {
				return a, b, true
			}
		}
	}
	return lo, hi, false
}

// chart draws one code's values over the period, the reference range
// shaded; values that are not numbers are counted under it.
func (d *doc) chart(g []store.Observation, from, to time.Time, loc *time.Location) {
	const h = 52.0
	const axisW = 16.0
	x0, w := marginL+axisW, contentW-axisW-2
	d.ensure(h + 14)
	y0 := d.GetY() + 2

	type pt struct {
		x, y     float64
		censored bool
		flagged  bool
	}
	var pts []pt
	lo, hi := math.Inf(1), math.Inf(-1)
	skipped := 0
	for _, o := range g {
		v, c, ok := numeric(o.Value)
		if !ok {
			skipped++
			continue
		}
		pts = append(pts, pt{x: float64(obsTime(o).Unix()), y: v, censored: c, flagged: strings.TrimSpace(o.Flags) != "" && !strings.EqualFold(strings.TrimSpace(o.Flags), "N")})
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	rlo, rhi, hasRange := math.NaN(), math.NaN(), false
	for _, o := range g {
		if a, b, ok := refRange(o.ReferenceRange); ok {
			rlo, rhi, hasRange = a, b, true
			break
		}
	}
	if hasRange {
		if !math.IsNaN(rlo) {
			lo, hi = math.Min(lo, rlo), math.Max(hi, rlo)
		}
		if !math.IsNaN(rhi) {
			lo, hi = math.Min(lo, rhi), math.Max(hi, rhi)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.08
	lo, hi = lo-pad, hi+pad
	tx0, tx1 := float64(from.Unix()), float64(to.Unix())
	if tx1 <= tx0 {
		tx1 = tx0 + 1
	}
	px := func(x float64) float64 { return x0 + (x-tx0)/(tx1-tx0)*w }
	py := func(y float64) float64 { return y0 + h - (y-lo)/(hi-lo)*h }

	// Reference range band.
	if hasRange {
		a, b := lo, hi
		if !math.IsNaN(rlo) {
			a = rlo
		}
		if !math.IsNaN(rhi) {
			b = rhi
		}
		d.SetFillColor(218, 240, 222)
		d.Rect(x0, py(b), w, py(a)-py(b), "F")
	}
	// Frame, grid and labels.
	d.SetDrawColor(150, 158, 168)
	d.SetLineWidth(0.2)
	d.Rect(x0, y0, w, h, "D")
	d.SetFont(fontFamily, "", 7)
	d.SetTextColor(77, 85, 96)
	d.SetDrawColor(225, 230, 235)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		y := py(v)
		if i > 0 && i < 4 {
			d.Line(x0, y, x0+w, y)
		}
		d.SetXY(marginL, y-2)
		d.CellFormat(axisW-1.5, 4, fmtAxis(v, d.t), "", 0, "R", false, 0, "")
	}
	for i := 0; i <= 4; i++ {
		ts := tx0 + (tx1-tx0)*float64(i)/4
		x := px(ts)
		if i == 4 {
			ts = tx1 - 1 // the last day of the period, not midnight after it
		}
		label := time.Unix(int64(ts), 0).In(loc).Format(d.t.Date)
		lw := d.GetStringWidth(label) + 2
		d.SetXY(math.Min(math.Max(x-lw/2, x0), x0+w-lw), y0+h+0.5)
		d.CellFormat(lw, 4, label, "", 0, "C", false, 0, "")
	}
	// Values, joined in time order.
	d.SetLineWidth(0.35)
	d.SetDrawColor(11, 92, 173)
	for i := 1; i < len(pts); i++ {
		d.Line(px(pts[i-1].x), py(pts[i-1].y), px(pts[i].x), py(pts[i].y))
	}
	r := 0.7
	if len(pts) > 120 {
		r = 0.45
	}
	for _, p := range pts {
		style := "F"
		d.SetFillColor(11, 92, 173)
		if p.flagged {
			d.SetFillColor(164, 22, 26)
			d.SetDrawColor(164, 22, 26)
		}
		if p.censored {
			style = "D"
		}
		if len(pts) > 120 && !p.flagged && !p.censored {
			continue // a dense series reads from its line; marks would only blot it
		}
		d.Rect(px(p.x)-r, py(p.y)-r, 2*r, 2*r, style)
		d.SetDrawColor(11, 92, 173)
	}
	d.SetTextColor(0, 0, 0)
	d.SetLineWidth(0.2)
	d.SetXY(marginL, y0+h+5)
	if hasRange || skipped > 0 {
		d.SetFont(fontFamily, "", 7.5)
		d.SetTextColor(77, 85, 96)
		var notes []string
		if hasRange {
			d.SetFillColor(218, 240, 222)
			d.Rect(marginL, d.GetY()+0.6, 3, 2.8, "F")
			d.SetX(marginL + 4)
			notes = append(notes, d.t.ReferenceRange)
		}
		if skipped > 0 {
			notes = append(notes, fmt.Sprintf(d.t.NotPlotted, skipped))
		}
		d.MultiCell(contentW-4, 4, strings.Join(notes, " · "), "", "L", false)
		d.SetTextColor(0, 0, 0)
	}
	d.Ln(1.5)
}

// fmtAxis prints an axis value briefly, with the reader's decimal mark.
func fmtAxis(v float64, t *pdfText) string {
	s := strconv.FormatFloat(v, 'f', axisDecimals(v), 64)
	if t == pdfTexts["da"] {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func axisDecimals(v float64) int {
	switch a := math.Abs(v); {
	case a >= 100:
		return 0
	case a >= 10:
		return 1
	default:
		return 2
	}
}

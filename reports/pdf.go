package reports

import (
	"bytes"
	"fmt"
	"time"

	"github.com/clinicbox/clinicbox/assets"
	"github.com/jung-kurt/gofpdf"
)

// PDF prints the clinic's documents (visit summary, results report) with
// gofpdf and an embedded Unicode font, so any European alphabet prints.
// It holds no state; the zero value is ready.
type PDF struct{}

// Page geometry, in millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	marginL      = 15.0
	marginR      = 15.0
	marginT      = 22.0
	marginB      = 18.0
	contentW     = pageW - marginL - marginR
	fontFamily   = "DejaVu"
)

// doc is one document being laid out.
type doc struct {
	*gofpdf.Fpdf
	t *pdfText
}

// pagesAlias stands for the page count until the document is finished.
// Its digits print with the right glyphs: the font subset holds every digit
// of the count, since each appears in some page's own number.
const pagesAlias = "{nb}"

// newDoc starts a document whose every page carries the clinic's name and
// the title at the top and "Page n of N" with the time printed at the bottom.
func newDoc(t *pdfText, clinic, title, printed string) *doc {
	f := gofpdf.New("P", "mm", "A4", "")
	d := &doc{Fpdf: f, t: t}
	f.SetCompression(true)
	f.SetCreationDate(time.Unix(0, 0).UTC()) // the content, not the clock, makes the bytes
	f.SetCatalogSort(true)
	f.AliasNbPages(pagesAlias)
	f.AddUTF8FontFromBytes(fontFamily, "", assets.FontRegular)
	f.AddUTF8FontFromBytes(fontFamily, "B", assets.FontBold)
	f.SetTitle(title, true)
	f.SetCreator("Clinicbox", true)
	f.SetMargins(marginL, marginT, marginR)
	f.SetAutoPageBreak(true, marginB)
	f.SetHeaderFunc(func() {
		f.SetY(8)
		f.SetFont(fontFamily, "B", 11)
		f.SetTextColor(16, 38, 61)
		f.CellFormat(contentW/2, 6, clinic, "", 0, "L", false, 0, "")
		f.SetFont(fontFamily, "", 11)
		f.CellFormat(contentW/2, 6, title, "", 1, "R", false, 0, "")
		f.SetDrawColor(160, 170, 180)
		f.SetLineWidth(0.3)
		f.Line(marginL, 15, pageW-marginR, 15)
		f.SetTextColor(0, 0, 0)
		f.SetY(marginT)
	})
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont(fontFamily, "", 8)
		f.SetTextColor(80, 85, 96)
		f.CellFormat(contentW/2, 5, t.Printed+" "+printed, "", 0, "L", false, 0, "")
		f.CellFormat(contentW/2, 5, t.pageOf(f.PageNo(), pagesAlias), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	return d
}

// output finishes the document.
func (d *doc) output() ([]byte, error) {
	var buf bytes.Buffer
	if err := d.Output(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// heading prints a section heading, moving to a new page when less than
// need millimetres remain under it.
func (d *doc) heading(s string, need float64) {
	d.ensure(need + 9)
	d.Ln(2)
	d.SetFont(fontFamily, "B", 12)
	d.SetTextColor(16, 38, 61)
	d.MultiCell(contentW, 6, s, "", "L", false)
	d.SetTextColor(0, 0, 0)
	d.Ln(1)
}

// ensure starts a new page when less than h millimetres remain.
func (d *doc) ensure(h float64) {
	if d.GetY()+h > pageH-marginB {
		d.AddPage()
	}
}

// field prints "label: value" rows with the label in a column.
func (d *doc) fields(labelW float64, rows [][2]string) {
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		d.SetFont(fontFamily, "B", 9.5)
		y := d.GetY()
		d.MultiCell(labelW, 5, r[0], "", "L", false)
		yl := d.GetY()
		d.SetXY(marginL+labelW, y)
		d.SetFont(fontFamily, "", 9.5)
		d.MultiCell(contentW-labelW, 5, r[1], "", "L", false)
		if yl > d.GetY() && d.PageNo() > 0 {
			d.SetY(yl)
		}
	}
}

// table prints rows under a header row that repeats on every page; cells
// wrap, and a row never splits across pages.
func (d *doc) table(widths []float64, header []string, rows [][]string, aligns []string) {
	const lh = 4.2
	printHeader := func() {
		d.SetFont(fontFamily, "B", 8.5)
		d.SetFillColor(238, 242, 246)
		for i, h := range header {
			d.CellFormat(widths[i], 6, h, "B", 0, "L", true, 0, "")
		}
		d.Ln(-1)
	}
	d.ensure(12)
	printHeader()
	d.SetFont(fontFamily, "", 8.5)
	for _, row := range rows {
		lines := make([][]string, len(row))
		n := 1
		for i, c := range row {
			lines[i] = d.SplitText(c, widths[i])
			if len(lines[i]) == 0 {
				lines[i] = []string{""}
			}
			n = max(n, len(lines[i]))
		}
		h := float64(n)*lh + 1.4
		if d.GetY()+h > pageH-marginB {
			d.AddPage()
			printHeader()
			d.SetFont(fontFamily, "", 8.5)
		}
		x, y := d.GetX(), d.GetY()
		for i := range row {
			for k, l := range lines[i] {
				d.SetXY(x, y+0.7+float64(k)*lh)
				align := "L"
				if aligns != nil {
					align = aligns[i]
				}
				d.CellFormat(widths[i], lh, l, "", 0, align, false, 0, "")
			}
			x += widths[i]
		}
		d.SetDrawColor(225, 230, 235)
		d.Line(marginL, y+h, marginL+sum(widths), y+h)
		d.SetXY(marginL, y+h)
	}
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

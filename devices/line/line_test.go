package line_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/line"
)

func TestDefaultPattern(t *testing.T) {
	p, err := line.NewParser("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want line.Reading // Line is filled in below
		ok   bool
	}{
		{"WT 72.4 kg", line.Reading{Code: "WT", Value: "72.4", Unit: "kg"}, true},
		{"WT   72.6 kg", line.Reading{Code: "WT", Value: "72.6", Unit: "kg"}, true},
		{"TEMP: 37.2 C", line.Reading{Code: "TEMP", Value: "37.2", Unit: "C"}, true},
		{"TEMP: 38,4 C H", line.Reading{Code: "TEMP", Value: "38,4", Unit: "C", Flags: "H"}, true},
		{"TEMP: 36.9 °C", line.Reading{Code: "TEMP", Value: "36.9", Unit: "°C"}, true},
		{"BMI 24.5 kg/m2", line.Reading{Code: "BMI", Value: "24.5", Unit: "kg/m2"}, true},
		{"SpO2=97 %", line.Reading{Code: "SpO2", Value: "97", Unit: "%"}, true},
		{"GLU >33.3 mmol/L", line.Reading{Code: "GLU", Value: ">33.3", Unit: "mmol/L"}, true},
		{"  72.4kg  ", line.Reading{Value: "72.4", Unit: "kg"}, true},
		{"+0072.40 kg", line.Reading{Value: "+0072.40", Unit: "kg"}, true},
		{"T -0.5 C", line.Reading{Code: "T", Value: "-0.5", Unit: "C"}, true},
		{"HT 172", line.Reading{Code: "HT", Value: "172"}, true},
		{"WS-200 BODY SCALE  SN 00231", line.Reading{}, false},
		{"------------------------", line.Reading{}, false},
		{"WEIGHT kg", line.Reading{}, false},
		{"", line.Reading{}, false},
	}
	for _, tt := range tests {
		got, err := p.Parse(tt.in)
		if !tt.ok {
			if !errors.Is(err, line.ErrNoMatch) {
				t.Errorf("Parse(%q) = %+v, %v; want ErrNoMatch", tt.in, got, err)
			}
			continue
		}
		tt.want.Line = tt.in
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestCustomPattern(t *testing.T) {
	// An A&D-style scale: "ST,GS,+00072.40 kg" (stable, gross).
	p, err := line.NewParser(`^(?P<flags>ST|US|OL),(?P<code>GS|NT|TR),(?P<value>[+-]\d+\.\d+)\s*(?P<unit>\w+)$`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Parse("ST,GS,+00072.40 kg")
	want := line.Reading{Code: "GS", Value: "+00072.40", Unit: "kg", Flags: "ST", Line: "ST,GS,+00072.40 kg"}
	if err != nil || got != want {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := p.Parse("US,GS,+00072.40 lb x"); !errors.Is(err, line.ErrNoMatch) {
		t.Errorf("err = %v", err)
	}
	// Only value is required.
	p, err = line.NewParser(`T=(?P<value>\S+)`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Parse("T=37,0"); err != nil || got.Value != "37,0" || got.Code != "" {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{`(?P<val>\d+)`, `(`} {
		if _, err := line.NewParser(bad); err == nil {
			t.Errorf("NewParser(%q): no error", bad)
		}
	}
}

func TestReader(t *testing.T) {
	r := line.NewReader(strings.NewReader("WT 72.4 kg\r\n\r\nTEMP: 37.2 C\rHT 172 cm\nlast"), 0)
	var got []string
	for {
		l, err := r.ReadLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	want := []string{"WT 72.4 kg", "TEMP: 37.2 C", "HT 172 cm", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q", got)
	}

	r = line.NewReader(strings.NewReader(strings.Repeat("x", 50)+"\nWT 1 kg\n"), 10)
	if _, err := r.ReadLine(); !errors.Is(err, line.ErrLineTooLong) {
		t.Fatalf("err = %v", err)
	}
	if l, err := r.ReadLine(); err != nil || l != "WT 1 kg" {
		t.Fatalf("after long line: %q, %v", l, err)
	}
}

// FuzzParse: parsing never panics, a reading's value comes from the line,
// and the reader never returns a line over its limit.
func FuzzParse(f *testing.F) {
	f.Add("WT 72.4 kg")
	f.Add("TEMP: 38,4 C H\r\nxx")
	f.Add("GLU >33.3 mmol/L\n\n\r")
	p, err := line.NewParser("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := line.NewReader(strings.NewReader(s), 64)
		for range len(s) + 1 {
			l, err := r.ReadLine()
			if errors.Is(err, line.ErrLineTooLong) {
				continue
			}
			if err != nil {
				return
			}
			if len(l) > 64 || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
			rd, err := p.Parse(l)
			if err != nil {
				continue
			}
			if rd.Value == "" || !strings.Contains(l, rd.Value) || !strings.Contains(l, rd.Unit) || rd.Line != l {
				t.Fatalf("reading %+v from %q", rd, l)
			}
		}
		t.Fatal("reader did not reach the end")
	})
}

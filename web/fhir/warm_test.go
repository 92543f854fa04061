package fhir

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The warm search's shortcuts answer what the general code answered.

func TestValidIDIsTheFHIRIdPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []string{"", "a", "0190a5b2-7c1d-7000-8000-000000000001", strings.Repeat("a", 64), strings.Repeat("a", 65), "a_b", "a/b", "a b", "æ", "a\n", ".-", "Patient/x"}
	for range 5000 {
		var b []byte
		for range rng.IntN(70) {
			b = append(b, "aZ09-._/ \næ"[rng.IntN(12)])
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if validID(s) != re.MatchString(s) {
			t.Errorf("%q: validID %v, pattern %v", s, validID(s), re.MatchString(s))
		}
	}
}

func TestDateFastPathIsTheLayouts(t *testing.T) {
	for _, v := range []string{"2026-01-15", "2026-02-30", "2026-13-01", "2026-1-015", "20260-1-15", "2026-01-1x", "0000-01-01", "9999-12-31",
		"2026-02-28", "2024-02-29", "2025-02-29", "2026-01-15Z", "2026", "2026-01", "2026-01-15T10:00Z", "+026-01-15", "2026/01/15"} {
		lo, hi, err := parseDateInterval(v)
		wlo, whi, werr := parseDateLayouts(v)
		if !lo.Equal(wlo) || !hi.Equal(whi) || (err == nil) != (werr == nil) {
			t.Errorf("%q: %v %v %v, layouts %v %v %v", v, lo, hi, err, wlo, whi, werr)
		}
	}
}

func TestSplitCommaWithoutEscapes(t *testing.T) {
	slow := func(s string) []string {
		var out []string
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case s[i] == ',':
				out = append(out, b.String())
				b.Reset()
			default:
				b.WriteByte(s[i])
			}
		}
		return append(out, b.String())
	}
	for _, s := range []string{"", ",", "a", "a,b", ",a,", "a,,b", `a\,b`, `a\`, `\\,x`, "http://loinc.org|1-8,http://npu-terminology.org|NPU02187"} {
		if got, want := splitComma(s), slow(s); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	}
}

func TestPlainNumberIsThePattern(t *testing.T) {
	plainNumberRE := regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []string{"", "-", "0", "-0", "00", "01", "1.", ".5", "1.5", "-0.5", "140", "7.20", "1e3", "<0,5", "7,41", "1.5.5", "--1", "0.0", "9-"}
	for range 5000 {
		var b []byte
		for range rng.IntN(8) {
			b = append(b, "-0123.9e,"[rng.IntN(9)])
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if plainNumber(s) != plainNumberRE.MatchString(s) {
			t.Errorf("%q: plainNumber %v, pattern %v", s, plainNumber(s), plainNumberRE.MatchString(s))
		}
	}
}

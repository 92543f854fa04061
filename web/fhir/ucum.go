package fhir

import (
	"strings"
	"sync"
	"sync/atomic"
)

// isUCUM reports whether unit is a valid UCUM expression (case sensitive
// form, "c/s") built from the atoms clinics and instruments use: metric
// units with prefixes (mmol/L, g/dL, 10*3/uL, mm[Hg], kg/m2, %, /min,
// {beats}/min, Cel, [IU]/L). It is a parser of the UCUM grammar over a
// table of atoms, not the whole UCUM table: a unit it does not know is sent
// as text beside a valueString, never as a coded quantity.
func isUCUM(unit string) bool {
	// A patient's cache fill asks about the same few units fifty times;
	// parsing was a quarter of a result's mapping and encoding. Bounded:
	// units are a small vocabulary, but a client can send any.
	if v, ok := ucumSeen.Load(unit); ok {
		return v.(bool)
	}
	ok := parseUCUM(unit)
	if ucumSeenN.Load() < 4096 {
		ucumSeenN.Add(1)
		ucumSeen.Store(unit, ok)
	}
	return ok
}

var (
	ucumSeen  sync.Map // unit → isUCUM
	ucumSeenN atomic.Int32
)

func parseUCUM(unit string) bool {
	if unit == "" || len(unit) > 64 {
		return false
	}
	p := ucumParser{s: unit}
	if p.peek() == '/' {
		p.i++
	}
	if !p.term() {
		return false
	}
	return p.i == len(p.s)
}

type ucumParser struct {
	s string
	i int
}

func (p *ucumParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// term := component (('.' | '/') component)*
func (p *ucumParser) term() bool {
	if !p.component() {
		return false
	}
	for p.peek() == '.' || p.peek() == '/' {
		p.i++
		if !p.component() {
			return false
		}
	}
	return true
}

// component := annotatable annotation? | annotation | factor | '(' term ')'
func (p *ucumParser) component() bool {
	switch c := p.peek(); {
	case c == '(':
		p.i++
		if !p.term() || p.peek() != ')' {
			return false
		}
		p.i++
		return true
	case c == '{':
		return p.annotation()
	case c >= '0' && c <= '9':
		// A factor (1000), or the atom 10* / 10^ with an exponent.
		start := p.i
		for p.peek() >= '0' && p.peek() <= '9' {
			p.i++
		}
		if p.s[start:p.i] == "10" && (p.peek() == '*' || p.peek() == '^') {
			p.i++
			if !p.exponent() {
				return false
			}
		}
		if p.peek() == '{' {
			return p.annotation()
		}
		return true
	}
	if !p.simpleUnit() {
		return false
	}
	p.exponentOpt()
	if p.peek() == '{' {
		return p.annotation()
	}
	return true
}

func (p *ucumParser) annotation() bool {
	end := strings.IndexByte(p.s[p.i:], '}')
	if end < 0 {
		return false
	}
	for _, c := range p.s[p.i+1 : p.i+end] {
		if c < 0x21 || c > 0x7e || c == '{' {
			return false
		}
	}
	p.i += end + 1
	return true
}

func (p *ucumParser) exponent() bool {
	start := p.i
	if p.peek() == '-' || p.peek() == '+' {
		p.i++
	}
	digits := p.i
	for p.peek() >= '0' && p.peek() <= '9' {
		p.i++
	}
	if p.i == digits {
		p.i = start
		return false
	}
	return true
}

func (p *ucumParser) exponentOpt() {
	if c := p.peek(); c == '-' || c == '+' || (c >= '0' && c <= '9') {
		p.exponent()
	}
}

// simpleUnit := prefix? metricAtom | nonMetricAtom; the longest match wins.
func (p *ucumParser) simpleUnit() bool {
	rest := p.s[p.i:]
	best := 0
	for _, a := range ucumAtoms {
		if len(a.code) > best && strings.HasPrefix(rest, a.code) {
			best = len(a.code)
		}
	}
	for _, pre := range ucumPrefixes {
		if !strings.HasPrefix(rest, pre) {
			continue
		}
		for _, a := range ucumAtoms {
			if a.metric && len(pre)+len(a.code) > best && strings.HasPrefix(rest[len(pre):], a.code) {
				best = len(pre) + len(a.code)
			}
		}
	}
	if best == 0 {
		return false
	}
	p.i += best
	return true
}

var ucumPrefixes = []string{"Y", "Z", "E", "P", "T", "G", "M", "k", "h", "da", "d", "c", "m", "u", "n", "p", "f", "a"}

var ucumAtoms = []struct {
	code   string
	metric bool
}{
	{"m", true}, {"s", true}, {"g", true}, {"L", true}, {"l", true}, {"mol", true}, {"eq", true},
	{"osm", true}, {"kat", true}, {"U", true}, {"[IU]", true}, {"[iU]", true}, {"Pa", true}, {"bar", true},
	{"Hz", true}, {"N", true}, {"J", true}, {"W", true}, {"V", true}, {"A", true}, {"Ohm", true},
	{"cal", true}, {"K", true}, {"Cel", true}, {"B", true}, {"dB", false}, {"Ci", true}, {"Bq", true},
	{"Gy", true}, {"Sv", true}, {"cd", true}, {"lm", true}, {"lx", true}, {"t", true},
	{"m[Hg]", true}, {"m[H2O]", true}, {"gf", true}, {"[drp]", false}, {"[pH]", false},
	{"min", false}, {"h", false}, {"d", false}, {"wk", false}, {"mo", false}, {"a", false},
	{"%", false}, {"[ppm]", false}, {"[ppb]", false}, {"[ppth]", false}, {"[degF]", false},
	{"[in_i]", false}, {"[ft_i]", false}, {"[lb_av]", false}, {"[oz_av]", false},
	{"[arb'U]", false}, {"[HPF]", false}, {"[LPF]", false}, {"[CFU]", false}, {"[mi_i]", false},
	{"[in_i'Hg]", false}, {"deg", false}, {"[beth'U]", false}, {"[todd'U]", false},
}

package line

import (
	"errors"
	"fmt"
	"regexp"
)

// DefaultPattern matches an optional code, a number and an optional unit
// and flag: "WT 72.4 kg", "TEMP: 37.2 C", "TEMP: 38,4 C H", "72.4kg",
// "GLU >33.3 mmol/L", "BMI 24.5 kg/m2", "SpO2=97 %". Lines without a number
// (banners, separators) do not match.
const DefaultPattern = `^\s*(?:(?P<code>[A-Za-z][A-Za-z0-9_./%-]*)(?:\s*[:=]\s*|\s+))?` +
	`(?P<value>[<>]?[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+))` +
	`(?:\s*(?P<unit>[^\s\d<>+-]\S*))?` +
	`(?:\s+(?P<flags>[A-Z*!?]{1,3}))?\s*$`

// ErrNoMatch reports a line that is not a reading.
var ErrNoMatch = errors.New("line: not a reading")

// Reading is one parsed line.
type Reading struct {
	Code  string // the code group, "" if the pattern has none or it did not match
	Value string // exactly as printed
	Unit  string
	Flags string
	Line  string // the whole line
}

// Parser turns lines into readings with one regular expression.
type Parser struct {
	re                       *regexp.Regexp
	code, value, unit, flags int // submatch indexes, -1 if absent
}

// NewParser compiles pattern, which must have a named group "value" and
// may have "code", "unit" and "flags". An empty pattern means
// DefaultPattern.
func NewParser(pattern string) (*Parser, error) {
	if pattern == "" {
		pattern = DefaultPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("line: pattern: %w", err)
	}
	p := &Parser{re: re, code: re.SubexpIndex("code"), value: re.SubexpIndex("value"), unit: re.SubexpIndex("unit"), flags: re.SubexpIndex("flags")}
	if p.value < 0 {
		return nil, fmt.Errorf("line: pattern %q has no (?P<value>...) group", pattern)
	}
	return p, nil
}

// Parse reads one line (without its line end). It returns ErrNoMatch for
// lines that are not readings, including those where value is empty.
func (p *Parser) Parse(line string) (Reading, error) {
	m := p.re.FindStringSubmatch(line)
	if m == nil || m[p.value] == "" {
		return Reading{}, fmt.Errorf("%w: %q", ErrNoMatch, truncate(line, 80))
	}
	group := func(i int) string {
		if i < 0 {
			return ""
		}
		return m[i]
	}
	return Reading{Code: group(p.code), Value: m[p.value], Unit: group(p.unit), Flags: group(p.flags), Line: line}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

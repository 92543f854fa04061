package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestNoHardCodedText keeps every word people read in the catalogues: it
// reads the templ files under web/ and fails on a text node, or a text
// attribute people see or hear (title, aria-label, placeholder, alt,
// label) written as a literal instead of through T or N. Symbols, numbers
// and the few names below that are the same in every language pass.
func TestNoHardCodedText(t *testing.T) {
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".templ") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d templ files under web/: is the walk wrong?", len(files))
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range hardCodedText(string(b)) {
			if untranslated[f.templ] {
				continue
			}
			t.Errorf("%s:%d (templ %s): hard-coded text %q: put it in the catalogues and write { i18n.T(ctx, \"...\") }", path, f.line, f.templ, f.text)
		}
	}
}

// TestHardCodedTextScanner: the scanner finds what it should and only that.
func TestHardCodedTextScanner(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"text node", "templ a() {\n\t<p>Hello there</p>\n}\n", []string{"Hello there"}},
		{"expression", "templ a() {\n\t<p>{ i18n.T(ctx, \"Hi\") }</p>\n}\n", nil},
		{"mixed", "templ a(n string) {\n\t<p>Dear { n }, welcome</p>\n}\n", []string{"Dear", ", welcome"}},
		{"attribute", "templ a() {\n\t<input placeholder=\"Type here\" name=\"q\" data-testid=\"some-id\"/>\n}\n", []string{"Type here"}},
		{"attribute expression", "templ a() {\n\t<img alt={ i18n.T(ctx, \"Logo\") } src=\"/x.png\"/>\n}\n", nil},
		{"go statements", "templ a(ok bool) {\n\tif ok {\n\t\t<b>{ \"x\" }</b>\n\t} else {\n\t\t–\n\t}\n\tswitch {\n\t\tcase ok:\n\t}\n}\n", nil},
		{"component with children", "templ a() {\n\t@layout.Page(layout.PageProps{Title: \"x\"}) {\n\t\t<h1>Title here</h1>\n\t}\n}\n", []string{"Title here"}},
		{"multi-line tag", "templ a() {\n\t<a\n\t\thref=\"/x\"\n\t\ttitle=\"Go there\"\n\t>{ x }</a>\n}\n", []string{"Go there"}},
		{"symbols and names", "templ a() {\n\t<span>· – 42 %</span><span>OK</span><span>UDP/TCP</span>\n}\n", nil},
		{"go code outside templ", "package x\n\nfunc f() string { return \"Some English\" }\n", nil},
		{"code sample", "templ a() {\n\t<p>{ i18n.T(ctx, \"Send\") } <code>Api-Key</code> { i18n.T(ctx, \"Header\") }</p>\n}\n", nil},
		{"script block skipped", "templ a() {\n\t<style>body { color: red }</style>\n}\n", nil},
		{"component arguments", "templ a() {\n\t@layout.Submit(\"Label sample\")\n\t@layout.PostButton(layout.PostButtonProps{Label: \"Clear\", TestID: \"clear-x\", Name: \"patient_id\"})\n\t@layout.Submit(i18n.T(ctx, \"StnAssign\", \"Name\", x))\n}\n", []string{"Label sample", "Clear"}},
		{"literal expression", "templ a() {\n\t<p>{ \"Hello there\" }{ \", \" }{ i18n.T(ctx, \"Hi\") }</p>\n}\n", []string{"Hello there"}},
		{"conditional attribute", "templ a(on bool) {\n\t<option if on { selected } value=\"a\">Standard plan</option>\n}\n", []string{"Standard plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range hardCodedText(tt.src) {
				got = append(got, f.text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// untranslated lists the components whose wording is still being moved
// into the catalogues (the /admin pages, which moved into one package this
// session). It only ever shrinks: a new component is not added here.
var untranslated = map[string]bool{}

// sameInEveryLanguage are words a template may write literally: names,
// units and abbreviations that no translation changes.
var sameInEveryLanguage = map[string]bool{
	"OK": true, "UDP": true, "TCP": true, "TLS": true, "TURN": true, "HL7": true, "ASTM": true, "MLLP": true, "LIS": true,
	"POCT": true, "CSV": true, "PDF": true, "QR": true, "QC": true, "TOTP": true, "CPR": true, "MRN": true, "ID": true,
	"FHIR": true, "API": true, "JSON": true, "SpO2": true, "Clinicbox": true, "NPU": true, "LOINC": true, "UCUM": true,
	"SD": true, "min": true, "ms": true, "kB": true, "MB": true, "px": true,
}

var visibleAttrs = map[string]bool{"title": true, "aria-label": true, "placeholder": true, "alt": true, "label": true,
	"aria-description": true, "aria-roledescription": true, "aria-valuetext": true}

var wordRE = regexp.MustCompile(`[\p{L}][\p{L}\p{N}]*`)

// humanText reports whether s holds a word people read.
func humanText(s string) bool {
	for _, w := range wordRE.FindAllString(s, -1) {
		if len([]rune(w)) < 2 || sameInEveryLanguage[w] {
			continue
		}
		return true
	}
	return false
}

type textFinding struct {
	line  int
	text  string
	templ string // the component it is in
}

// hardCodedText scans a templ file: only the bodies of `templ` components
// (a line starting "templ " up to the next line that is just "}"), where
// it follows markup, { expressions }, Go statements (if, for, switch,
// case, else, closing braces) and @component calls.
func hardCodedText(src string) []textFinding {
	var out []textFinding
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "templ ") {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && lines[end] != "}" {
			end++
		}
		name := strings.TrimPrefix(lines[i], "templ ")
		if k := strings.IndexAny(name, "( "); k >= 0 {
			name = name[:k]
		}
		body := strings.Join(lines[start:end], "\n")
		for _, f := range scanBody(body) {
			f.line += start + 1
			f.templ = name
			out = append(out, f)
		}
		i = end
	}
	return out
}

func scanBody(s string) []textFinding {
	var out []textFinding
	line := 0
	var text strings.Builder
	textLine := 0
	flush := func() {
		if t := strings.TrimSpace(text.String()); t != "" && humanText(t) {
			out = append(out, textFinding{line: textLine, text: t})
		}
		text.Reset()
	}
	atLineStart := true
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\n' {
			flush()
			line++
			i++
			atLineStart = true
			continue
		}
		if atLineStart {
			if c == ' ' || c == '\t' {
				i++
				continue
			}
			atLineStart = false
			rest := s[i:]
			if j := strings.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[:j]
			}
			if goStatement(rest) {
				i += len(rest)
				continue
			}
		}
		switch {
		case c == '{':
			flush()
			j := skipGo(s, i, '{', '}')
			for _, lit := range literalsIn(s[i:j]) {
				out = append(out, textFinding{line: line, text: lit})
			}
			line += strings.Count(s[i:j], "\n")
			i = j
		case c == '@':
			flush()
			j := i + 1
			for j < len(s) && (isIdent(s[j]) || s[j] == '.') {
				j++
			}
			if j < len(s) && s[j] == '(' {
				j = skipGo(s, j, '(', ')')
				for _, lit := range literalsIn(s[i:j]) {
					out = append(out, textFinding{line: line, text: lit})
				}
			}
			line += strings.Count(s[i:j], "\n")
			i = j
			// " {" opening the component's children is not an expression.
			if k := strings.IndexByte(s[i:], '\n'); k >= 0 && strings.TrimSpace(s[i:i+k]) == "{" {
				i += k
			}
		case c == '<' && strings.HasPrefix(s[i:], "<!--"):
			flush()
			j := strings.Index(s[i:], "-->")
			if j < 0 {
				return out
			}
			line += strings.Count(s[i:i+j], "\n")
			i += j + 3
		case c == '<' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '!' || unicode.IsLetter(rune(s[i+1]))):
			flush()
			j, found := scanTag(s, i, line)
			out = append(out, found...)
			name := tagName(s[i:j])
			line += strings.Count(s[i:j], "\n")
			i = j
			// Scripts and styles are not text; code samples (<code>, <kbd>,
			// <samp>, <pre>) are the same in every language.
			if name == "script" || name == "style" || name == "code" || name == "kbd" || name == "samp" || name == "pre" {
				k := strings.Index(s[i:], "</"+name)
				if k < 0 {
					return out
				}
				line += strings.Count(s[i:i+k], "\n")
				i += k
			}
		default:
			if text.Len() == 0 {
				textLine = line
			}
			text.WriteByte(c)
			i++
		}
	}
	flush()
	return out
}

// literalsIn returns the Go string literals in code that read as words
// for people ("Find a patient", "Clear"): ones with a space, or starting
// with a capital and going on in lower case. The arguments of i18n.T and
// i18n.N calls (message ids and argument names) are not text.
func literalsIn(code string) []string {
	var out []string
	for j := 0; j < len(code); j++ {
		switch c := code[j]; {
		case strings.HasPrefix(code[j:], "i18n.T(") || strings.HasPrefix(code[j:], "i18n.N(") || strings.HasPrefix(code[j:], "i18n.In("):
			j = skipGo(code, j+strings.IndexByte(code[j:], '('), '(', ')') - 1
		case c == '`':
			k := strings.IndexByte(code[j+1:], '`')
			if k < 0 {
				return out
			}
			j += k + 1
		case c == '\'':
			for j++; j < len(code) && code[j] != '\''; j++ {
				if code[j] == '\\' {
					j++
				}
			}
		case c == '"':
			k := j + 1
			for k < len(code) && code[k] != '"' {
				if code[k] == '\\' {
					k++
				}
				k++
			}
			if k > len(code) {
				k = len(code)
			}
			lit := code[j+1 : k]
			if humanText(lit) && (strings.Contains(strings.TrimSpace(lit), " ") || capitalWord.MatchString(lit)) {
				out = append(out, lit)
			}
			j = k
		}
	}
	return out
}

var capitalWord = regexp.MustCompile(`^\p{Lu}\p{Ll}+$`)

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var goLine = regexp.MustCompile(`^(if |for |switch |switch\{|case |default:|else|\} ?else|\}$|//)`)

func goStatement(line string) bool { return goLine.MatchString(strings.TrimSpace(line)) }

// skipGo returns the index after the bracket that closes the one at i,
// stepping over Go strings, runes and raw strings.
func skipGo(s string, i int, open, close byte) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j + 1
			}
		case '"', '\'':
			q := s[j]
			for j++; j < len(s) && s[j] != q; j++ {
				if s[j] == '\\' {
					j++
				}
			}
		case '`':
			for j++; j < len(s) && s[j] != '`'; j++ {
			}
		}
	}
	return len(s)
}

func tagName(tag string) string {
	t := strings.TrimLeft(tag, "</")
	n := 0
	for n < len(t) && (isIdent(t[n]) || t[n] == '-') {
		n++
	}
	return strings.ToLower(t[:n])
}

// scanTag reads a tag from s[i] ('<') to its '>', reporting literal values
// of visible attributes; { } inside (attribute expressions, conditional
// attributes) are stepped over.
func scanTag(s string, i, line int) (int, []textFinding) {
	var out []textFinding
	j := i + 1
	for j < len(s) {
		switch c := s[j]; {
		case c == '>':
			return j + 1, out
		case c == '{':
			j = skipGo(s, j, '{', '}')
		case c == '"':
			k := strings.IndexByte(s[j+1:], '"')
			if k < 0 {
				return len(s), out
			}
			val := s[j+1 : j+1+k]
			// the attribute's name is the word before `="`
			name := ""
			if e := j - 1; e >= 0 && s[e] == '=' {
				b := e
				for b > 0 && (isIdent(s[b-1]) || s[b-1] == '-' || s[b-1] == ':') {
					b--
				}
				name = strings.ToLower(s[b:e])
			}
			if visibleAttrs[name] && humanText(val) {
				out = append(out, textFinding{line: line + strings.Count(s[i:j], "\n"), text: val})
			}
			j += k + 2
		default:
			j++
		}
	}
	return len(s), out
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search folds names and identifiers the way staff type them: without
// diacritics (sorensen finds Sørensen, aa finds Åse), identifiers with or
// without their punctuation and prefix (0101851234 and 010185-1234, 1001 and
// MRN-1001), phone numbers with or without spaces and +45, and birth dates
// from the year on (1985-12). Both the terms stored in patient_terms and the
// words of a query go through the same folding, so the index design is
// unchanged: every query word is the prefix of one term.

// danishFold spells the Danish letters as they are typed on a keyboard
// without them; the rest of the diacritics are simply dropped.
var danishFold = strings.NewReplacer("æ", "ae", "ø", "o", "å", "aa", "ß", "ss")

var stripMarks = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// foldWord is a lower-cased word without diacritics.
func foldWord(w string) string {
	w = danishFold.Replace(strings.ToLower(w))
	if isASCII(w) {
		return w
	}
	out, _, err := transform.String(stripMarks, w)
	if err != nil {
		return w
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// digitsOnly keeps the digits of s.
func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// alnumOnly keeps the letters and digits of s.
func alnumOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

var trailingDigits = regexp.MustCompile(`[0-9]+$`)

// identifierTerms are the forms an identifier is found by: as written, its
// letters and digits only (MRN1001, 0101851234) and its number without a
// prefix (1001).
func identifierTerms(id string) []string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return nil
	}
	out := []string{id}
	if a := alnumOnly(id); a != "" && a != id {
		out = append(out, a)
	}
	if d := trailingDigits.FindString(id); len(d) >= 3 && d != id {
		out = append(out, d)
	}
	return out
}

// phoneTerms are a phone number's digits, with and without the Danish
// country code.
func phoneTerms(phone string) []string {
	d := digitsOnly(phone)
	if len(d) < 6 {
		return nil
	}
	out := []string{d}
	switch {
	case strings.HasPrefix(d, "0045") && len(d) == 12:
		out = append(out, d[4:])
	case strings.HasPrefix(d, "45") && len(d) == 10:
		out = append(out, d[2:])
	}
	return out
}

var (
	datePrefix = regexp.MustCompile(`^[0-9]{4}(-[0-9]{1,2}(-[0-9]{0,2})?)?$`)
	numberLike = regexp.MustCompile(`^[+0-9][0-9 ()./-]*$`)
)

// queryWords turns what was typed into the prefixes to look for: "Last,
// First" and "First Last" both become two words; a number typed with spaces
// or dashes (a phone number, a CPR number) becomes one word of its digits.
func queryWords(q string) []string {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	if !datePrefix.MatchString(q) && numberLike.MatchString(q) {
		if d := digitsOnly(q); len(d) >= 6 {
			if strings.HasPrefix(q, "+45") || strings.HasPrefix(q, "0045") {
				d = strings.TrimPrefix(strings.TrimPrefix(d, "00"), "45")
			}
			return []string{d}
		}
	}
	var out []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }) {
		if datePrefix.MatchString(w) {
			out = append(out, w)
			continue
		}
		out = append(out, foldWord(w))
	}
	return out
}

// searchTerms are the folded words a patient can be found by.
func searchTerms(p *Patient) []string {
	seen := map[string]bool{}
	var out []string
	put := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	name := func(s string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return unicode.IsSpace(r) || r == ',' || r == '-'
		}) {
			put(foldWord(w))
		}
	}
	for _, n := range p.Names {
		name(n.FirstName)
		name(n.MiddleName)
		name(n.LastName)
		name(n.Family)
	}
	for _, id := range []string{p.MRN, p.HSID, p.NationalID, p.ExternalID, p.AccountNumber} {
		for _, t := range identifierTerms(id) {
			put(t)
		}
	}
	for _, c := range p.Telecom {
		if c.System == "phone" || c.System == "sms" {
			for _, t := range phoneTerms(c.Value) {
				put(t)
			}
		}
	}
	if p.BirthDate != "" {
		put(p.BirthDate)
	}
	return out
}

// searchVersion names the folding above; a database indexed with an older
// one is re-indexed once when opened.
const searchVersion = "patient-terms-v2"

// reindexPatientTerms rebuilds every patient's search terms when the
// folding changed since the database was indexed, in batches so the
// writer is never held for long.
func (s *Store) reindexPatientTerms(ctx context.Context) error {
	var done int64
	err := s.r.QueryRowContext(ctx, `SELECT last_id FROM event_cursors WHERE consumer = ?`, searchVersion).Scan(&done)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("search index version: %w", err)
	}
	var after int64
	for {
		rows, err := s.r.QueryContext(ctx, `SELECT `+patientCols+` FROM patients WHERE id > ? ORDER BY id LIMIT 500`, after)
		if err != nil {
			return fmt.Errorf("reindex patients: %w", err)
		}
		var batch []Patient
		for rows.Next() {
			p, err := scanPatient(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("reindex patients: %w", err)
			}
			batch = append(batch, *p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reindex patients: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		err = s.write(ctx, func(tx *txn) error {
			for i := range batch {
				if err := writePatientTerms(tx, &batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		after = batch[len(batch)-1].ID
	}
	return s.write(ctx, func(tx *txn) error { return tx.setCursor(searchVersion, 1) })
}

package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Input bounds shared by every face: whatever the wire format, a value
// that reaches the model through an API or a page passes these checks, so
// each face answers its own error shape for the same rule. (Values that
// arrive from serial instruments are evidence and are stored verbatim; they
// do not pass through here.)

// Length limits of the model's text fields, in characters.
const (
	MaxNamePart  = 100   // a first, middle or last name, a family name
	MaxIDLength  = 200   // an identifier: MRN, external id, sample id, ...
	MaxShortText = 500   // a title, a reason, a file name, an e-mail
	MaxLongText  = 20000 // a note answer, a comment
	// MaxPatientIdentifier bounds a patient's MRN, HSID, national id and
	// account number.
	MaxPatientIdentifier = 100
	MaxCode              = 50    // a coded word: a name's or a phone's use, a QC level or unit
	MaxShortID           = 100   // a short identifier: an episode type, a sample id, a QC lot
	MaxLabel             = 200   // a label: an episode's, a waiting room's, a person's full name
	MaxParagraph         = 2000  // a paragraph: an episode's objective
	MaxNote              = 4000  // a monitoring note: an alert's resolution, a time entry's
	MaxMetricKey         = 63    // an organisation's own metric's key (metricKeyRE)
	MaxResultValue       = 10000 // a result's value as corrected by hand (a text result may be a report)
	// Sign-in inputs, checked by the API handlers before any look-up: a
	// longer value cannot be a user's, so it is refused as invalid input
	// rather than hashed or parsed.
	MaxPassword = 1024 // a password as typed
	MaxToken    = 512  // a refresh token
	MaxJWT      = 2048 // a signed short-lived token (an MFA token)
	// An encounter report's password (held in memory only, never stored),
	// in characters.
	MinReportPassword = 8
	MaxReportPassword = 200
)

// MaxTimeEntryMinutes is the longest monitoring time entry: a day.
const MaxTimeEntryMinutes = 24 * 60

// Bounds names the limits for API documents: a wire type's field tagged
// `bound:"namePart"` is documented with that maxLength, one tagged
// `range:"duration"` with minimum duration.min and maximum duration.max,
// so a face's OpenAPI document states the very constant the store
// enforces (web/attack's TestDocumentedBounds sends each bound and one
// past it).
var Bounds = map[string]int{
	"namePart":          MaxNamePart,
	"id":                MaxIDLength,
	"shortText":         MaxShortText,
	"longText":          MaxLongText,
	"patientIdentifier": MaxPatientIdentifier,
	"code":              MaxCode,
	"shortID":           MaxShortID,
	"label":             MaxLabel,
	"paragraph":         MaxParagraph,
	"note":              MaxNote,
	"metricKey":         MaxMetricKey,
	"resultValue":       MaxResultValue,
	"password":          MaxPassword,
	"token":             MaxToken,
	"jwt":               MaxJWT,
	// A bound with a .min also states a minLength.
	"reportPassword":     MaxReportPassword,
	"reportPassword.min": MinReportPassword,
	// Numeric ranges (`range:"duration"`: minimum, maximum).
	"duration.min": 1,
	"duration.max": MaxDuration,
	// A range with only a maximum: more than 0 (a fraction of a minute
	// counts), which a minimum cannot state.
	"minutes.max": MaxTimeEntryMinutes,
}

// Enums names the value lists the store accepts for API documents: a wire
// type's field tagged `enum:"program"` is documented with Enums["program"]
// (TestDocumentedBounds sends a value outside each list).
var Enums = map[string][]string{
	"program":          Programs,
	"enrollmentStatus": EnrollmentStatuses,
	"correctionStatus": CorrectionStatuses,
	"gender":           Genders,
	"telecomSystem":    TelecomSystems,
	// Stored in lower case and accepted in any case; the spec writes them
	// in upper case.
	"episodeStatus": append(slices.Clone(EpisodeStatuses), upper(EpisodeStatuses)...),
}

func upper(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// AppointmentHorizon bounds appointment dates: within this of now.
const AppointmentHorizon = 100 * 365 * 24 * time.Hour

// MaxDuration is the longest appointment or slot, in seconds (24 h).
const MaxDuration = 86400

// Line checks a one-line text field: valid UTF-8, at most max characters,
// no control characters (tab included: a name or id never holds one).
func (v *Validator) Line(field, s string, max int) {
	v.text(field, s, max, false)
}

// Text checks a free-text field: as Line, but tab, newline and carriage
// return are allowed.
func (v *Validator) Text(field, s string, max int) {
	v.text(field, s, max, true)
}

func (v *Validator) text(field, s string, max int, multiline bool) {
	if s == "" {
		return
	}
	if !utf8.ValidString(s) {
		v.Add(field, "must be valid UTF-8 text")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.Add(field, fmt.Sprintf("must be at most %d characters", max))
		return
	}
	for _, r := range s {
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			v.Add(field, "must not contain control characters")
			return
		}
	}
}

// HasControl reports whether s holds a control character other than tab
// and line breaks; faces use it for values they check themselves.
func HasControl(s string) bool {
	for _, r := range s {
		if r != '\t' && r != '\n' && r != '\r' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// Near checks that t lies within AppointmentHorizon of now (zero now: not
// checked).
func (v *Validator) Near(field string, t, now time.Time) {
	if now.IsZero() || t.IsZero() {
		return
	}
	if t.Before(now.Add(-AppointmentHorizon)) || t.After(now.Add(AppointmentHorizon)) {
		v.Add(field, "must be within 100 years of today")
	}
}

// MinDate and MaxDate bound the calendar dates typed into an API or a page
// that are not appointments (birth dates, episode periods, document and
// measurement times): outside them a date is a typing or encoding slip
// (year 1, year 9999, 2^63 seconds), never a clinic's.
var (
	MinDate = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDate = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Date checks that t lies between MinDate and MaxDate.
func (v *Validator) Date(field string, t time.Time) {
	v.Check(!t.Before(MinDate) && t.Before(MaxDate), field, fmt.Sprintf("must be between %d and %d", MinDate.Year(), MaxDate.Year()-1))
}

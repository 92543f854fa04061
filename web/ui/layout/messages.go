package layout

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// The store words its field and conflict messages in English (the APIs
// document them so). The pages show them in the reader's language: an exact
// message has a catalogue entry ("FieldMsg.is required", "ConflictMsg.the
// visit note is already signed"); the messages with a number or a name in
// them are matched by form below. A message of neither kind is shown as
// the store wrote it, never dropped.
var messageForms = []struct {
	re *regexp.Regexp
	id string   // catalogue id
	as []string // names of the submatches in the message
}{
	{regexp.MustCompile(`^must be at most (\d+) characters(?: of text)?$`), "FieldMsgMaxChars", []string{"N"}},
	{regexp.MustCompile(`^is required \(at most (\d+) characters\)$`), "FieldMsgRequiredMax", []string{"N"}},
	{regexp.MustCompile(`^must have at most (\d+) \w+$`), "FieldMsgMaxEntries", []string{"N"}},
	{regexp.MustCompile(`^must be at most (\d+) bytes$`), "FieldMsgMaxBytes", []string{"N"}},
	{regexp.MustCompile(`^must be between (\S+) and (.+)$`), "FieldMsgBetween", []string{"Min", "Max"}},
	{regexp.MustCompile(`^must be at least (.+)$`), "FieldMsgAtLeast", []string{"Min"}},
	{regexp.MustCompile(`^must be at most (.+)$`), "FieldMsgAtMost", []string{"Max"}},
	{regexp.MustCompile(`^"(.*)" is not a number$`), "FieldMsgNotNumber", []string{"Value"}},
	{regexp.MustCompile(`^"(.*)" is not a date \(YYYY-MM-DD\)$`), "FieldMsgNotDate", []string{"Value"}},
	{regexp.MustCompile(`^"(.*)" is not one of the options: (.*)$`), "FieldMsgNotOption", []string{"Value", "List"}},
	{regexp.MustCompile(`^(.+): must be answered before the note is signed$`), "FieldMsgAnswerBeforeSign", []string{"Question"}},
	{regexp.MustCompile(`^must be one of (.+)$`), "FieldMsgOneOf", []string{"List"}},
	{regexp.MustCompile(`^must be ([\w.-]+(?:, [\w.-]+)*) or ([\w.-]+)$`), "FieldMsgEither", []string{"List", "Last"}},
	{regexp.MustCompile(`^must not be before (\w+)$`), "FieldMsgNotBefore", []string{"Other"}},
	{regexp.MustCompile(`^must be after (\w+)$`), "FieldMsgAfter", []string{"Other"}},
	{regexp.MustCompile(`^an? ([\w ]+?) named "(.*)" already exists$`), "ConflictNamed", []string{"What", "Name"}},
	{regexp.MustCompile(`^alert (\S+) is already resolved$`), "ConflictAlertResolved", []string{"ID"}},
}

// Message is one store message (a field's or a conflict's) in ctx's language.
func Message(ctx context.Context, msg string) string {
	for _, prefix := range []string{"FieldMsg.", "ConflictMsg."} {
		if id := prefix + msg; i18n.Has(id) {
			return i18n.T(ctx, id)
		}
	}
	for _, f := range messageForms {
		m := f.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		args := make([]any, 0, 2*len(f.as))
		for i, name := range f.as {
			v := m[i+1]
			if name == "What" {
				v = label(ctx, "ThingName.", v)
			}
			args = append(args, name, v)
		}
		return i18n.T(ctx, f.id, args...)
	}
	return msg
}

// LocalMessage is a store error as one line in ctx's language: each field
// of a ValidationError with its label ("Navn: skal udfyldes"), a
// conflict's explanation, or the page's words for not found, forbidden and
// anything unknown (which reveals nothing).
func LocalMessage(ctx context.Context, err error) string {
	var ve *store.ValidationError
	var ce *store.ConflictError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ve):
		keys := make([]string, 0, len(ve.Fields))
		for k := range ve.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = storeFieldLabel(ctx, k) + ": " + Message(ctx, ve.Fields[k])
		}
		return strings.Join(parts, "; ")
	case errors.As(err, &ce):
		return Message(ctx, ce.Msg)
	case errors.Is(err, store.ErrNotFound):
		return text.T(ctx).NotFound
	case errors.Is(err, store.ErrForbidden):
		return text.T(ctx).Forbidden
	}
	return text.T(ctx).InternalError
}

// storeFieldLabel names a store field ("note", "rules[2].threshold") for people.
func storeFieldLabel(ctx context.Context, field string) string {
	base := field
	if i := strings.IndexAny(base, "[."); i > 0 {
		base = base[:i]
	}
	return label(ctx, "FieldName.", base)
}

func label(ctx context.Context, prefix, code string) string {
	if id := prefix + code; i18n.Has(id) {
		return i18n.T(ctx, id)
	}
	return code
}

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
	{regexp.MustCompile(`^must be at least (\d+) characters$`), "FieldMsgMinChars", []string{"N"}},
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
	{regexp.MustCompile(`^at most (\d+) sections$`), "FieldMsgMaxSections", []string{"N"}},
	{regexp.MustCompile(`^at most (\d+) questions in all$`), "FieldMsgMaxQuestions", []string{"N"}},
	{regexp.MustCompile(`^at most (\d+) options$`), "FieldMsgMaxOptions", []string{"N"}},
	{regexp.MustCompile(`^"(.*)" is listed twice$`), "FieldMsgListedTwice", []string{"Value"}},
	{regexp.MustCompile(`^"(.*)" is not a known scope \((.*)\)$`), "FieldMsgUnknownScope", []string{"Value", "List"}},
	{regexp.MustCompile(`^choose at least one of (.+)$`), "FieldMsgChooseOneOf", []string{"List"}},
	{regexp.MustCompile(`^"(.*)" is not one of (.+)$`), "FieldMsgNotOneOf", []string{"Value", "List"}},
	{regexp.MustCompile(`^"(.*)" is not a report column$`), "FieldMsgNotColumn", []string{"Value"}},
	{regexp.MustCompile(`^(\w+): opening must be HH:MM before closing HH:MM$`), "FieldMsgOpeningHours", []string{"Day"}},
	{regexp.MustCompile(`^The value you selected is not a valid choice\. Valid choices: (.+)\.$`), "FieldMsgNotChoice", []string{"List"}},
	{regexp.MustCompile(`^maps (.+) to (\S+) twice$`), "FieldMsgMapsTwice", []string{"Code", "System"}},
	{regexp.MustCompile(`^there is no visit note template named "(.*)"$`), "FieldMsgNoTemplate", []string{"Name"}},
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

// LocalFields are a ValidationError's field messages in ctx's language,
// under the store's field names (a form that names its fields otherwise
// renames them itself).
func LocalFields(ctx context.Context, fields map[string]string) Errors {
	if fields == nil {
		return nil
	}
	out := make(Errors, len(fields))
	for k, msg := range fields {
		out[k] = Message(ctx, msg)
	}
	return out
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

// Package text is the clinician pages' wording as one typed struct per
// language, filled from the message catalogues of web/i18n (each string
// field's message id is its field name; map entries are "Field.key",
// "GenderLabel.none" for the empty key; WeekdayName is "WeekdayName.0".."6").
//
// Pages read the strings of the request's language through T:
// text.T(ctx).BoardTitle. Strings with arguments are functions of them, so
// word order can change per language. New pages may as well call
// i18n.T(ctx, id) directly.
package text

// Package i18n is the pages' languages: Danish and English message
// catalogues (locales/en.json, locales/da.json, go-i18n format), the
// request's language carried in its context, and local formats for dates,
// times and numbers.
//
// # Using it from a page
//
// Every page handler runs with the language already in its context: staff
// pages get the signed-in user's language (their profile, else their
// organisation's), patient pages the one Middleware chose from ?lang=, the
// "lang" cookie or Accept-Language. In Go and in templ (where ctx is in
// scope) write
//
//	i18n.T(ctx, "VideoJoin")                         // plain message
//	i18n.T(ctx, "PageOf", "Page", 2, "Pages", 5)     // {{.Page}} in the text
//	i18n.N(ctx, "AppointmentsCount", n)              // plural; {{.Count}} is n
//	i18n.Date(ctx, t), i18n.Time(ctx, t), i18n.DateTime(ctx, t)
//	i18n.Decimal(ctx, "7.4")                         // "7,4" in Danish; display only
//
// To add a message, add its id to BOTH locales/en.json and locales/da.json.
// TestCatalogues fails when an id is in one file only, or when Go or templ
// source under web/ calls T or N with an id that is in neither. A missing id
// shows as the id itself, never as an empty string.
//
// Plural messages are objects: {"one": "1 patient", "other": "{{.Count}} patients"}.
package i18n

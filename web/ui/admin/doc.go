// Package admin is every administration page (/admin/*), for admins of an
// organisation: users, waiting rooms, the organisation's settings (language,
// mail, security), the audit log and the video self-test; the integrations
// (telehealth API keys, OAuth2 clients, webhooks and their delivery log, the
// linking secret, locations and report presets); visit-note templates;
// instruments (devices with their ports, live state, raw message log and
// re-ingestion; instrument API clients); and the point-of-care feed (tokens,
// the live fleet across a distributor's clinics, QC with Levey-Jennings
// charts, LIS destinations with their message log and code map, webhook
// deliveries).
//
// Like every face it imports no other face: what it needs from the
// instrument manager is the Devices interface, wired in by package web.
package admin

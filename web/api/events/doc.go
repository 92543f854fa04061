// Package events is the event message API (/api/events/v1): the domain
// events of the outbox, as a server-sent event stream that resumes from
// Last-Event-ID, or by long-poll. Each organisation sees its own events; the
// payload of an event is the body the webhooks deliver. Clients use the
// OAuth2 tokens of the FHIR face with the scope events.read.
package events

// Package webhook delivers the telehealth API's webhooks: it follows the
// events outbox, turns each event into durable delivery rows (one per
// subscribed webhook, written in the same transaction that advances its
// cursor) and posts them, encrypted as the spec documents, with retries and
// exponential backoff. Nothing is lost across a restart: the cursor and the
// deliveries live in the database.
package webhook

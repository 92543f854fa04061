// Package envelopetest decrypts envelopes the way the telehealth spec tells
// integrators to, for tests that check what a client would see.
package envelopetest

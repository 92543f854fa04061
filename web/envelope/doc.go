// Package envelope is the telehealth spec's encrypted envelope, shared by
// webhook payloads and the context-aware linking argument.
package envelope

// Package kv is the key-value store API (/api/kv/v1): configuration that
// does not fit the clinical model, per organisation and namespace, with
// entity tags for optimistic concurrency. Clients use the OAuth2 tokens of
// the FHIR face with the scopes kv.read and kv.write.
package kv

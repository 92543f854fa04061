// Package telehealth is the telehealth REST API face (/qapi/v1/...), as
// documented in shared/specs/telehealth-solo-external-api.txt: a thin
// translation between that wire format and the one clinic model in store.
package telehealth

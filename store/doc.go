// Package store is the clinic model: one file per aggregate (its type,
// validation and queries) and the named domain operations every face
// calls. What must be atomic is one method: it writes its rows, the
// matching outbox event and, for patient data, an audit row in one
// transaction. Every query is scoped to an organisation: an id that belongs
// to another organisation is simply not found. Faces never see a
// transaction; the engine (connections, group-commit writer, migrations)
// is in store/internal/sqlite.
package store

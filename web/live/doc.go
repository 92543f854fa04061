// Package live fans committed outbox events out to open pages (server-sent
// events). It keeps its subscribers in memory behind the Hub type; with more
// than one node it would listen to the database instead of the store's
// in-process signal.
package live

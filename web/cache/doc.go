// Package cache keeps the answers a face derives from the store (encoded
// JSON, mapped rows) in memory, within a byte budget. Every entry carries
// tags naming what it was derived from ("patient:12"); the face that owns
// the entries drops tags when the store's outbox says those things changed
// (store.WatchEvents), so no entry outlives a write that its owner was told
// about.
//
// Faces do not import this package: each declares the small interface it
// needs, and package web wires a *Cache into it.
package cache

// Package testpeer is a pion peer that joins a visit the way a browser
// does (the visit link's WebSocket, the server's offers, its own tracks): the
// video tests and the load generator use it.
package testpeer

// Package httpx holds what every HTTP face shares: the route table type
// and its registration (Route, Register), the one error classifier
// (Classify: a store or decoding error becomes a status; each face words it
// in its own shape; APIErrors renders the one shape the OAuth2 faces
// share), decoding JSON bodies with limits, writing JSON, client
// addresses and request logging.
package httpx

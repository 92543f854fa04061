// Package assets holds the static files of the clinician and patient pages,
// embedded in the binary.
package assets

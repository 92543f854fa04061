// Package ui is the clinician pages: templ components and their handlers.
// Pages render on the server and work without JavaScript; the board adds
// live updates when the script runs.
package ui

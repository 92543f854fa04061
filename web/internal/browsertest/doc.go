// Package browsertest is what the browser tests of several packages share:
// finding Chromium (skip locally, fail in CI), and running a step with a
// deadline that a loaded two-core CI machine can meet, saying where the page
// was when a step fails. It is imported by _test files only, so it is never
// linked into the appliance.
package browsertest

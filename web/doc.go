// Package web is everything HTTP: the clinician pages, the patient pages and
// every API face, behind one handler.
package web

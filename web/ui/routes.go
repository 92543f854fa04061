// Package ui is the clinician pages: templ components and their handlers.
package ui

import (
	"log/slog"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/live"
)

// Deps is what the pages need.
type Deps struct {
	Store     *store.Store
	Auth      *auth.Auth
	Live      *live.Hub
	Log       *slog.Logger
	PublicURL string
	Version   string
}

// Register adds every clinician page to mux.
func Register(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/board", http.StatusSeeOther)
	})
}

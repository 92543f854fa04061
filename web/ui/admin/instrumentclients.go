package admin

import (
	"errors"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// InstrumentClientsProps is the instrument API clients admin page.
type InstrumentClientsProps struct {
	Page    layout.PageProps
	Clients []store.InstrumentClient
	Name    string
	Errors  layout.Errors
	// NewClientID and NewSecret are set once, on the page that answers the
	// creation: the secret is never shown again.
	NewClientID string
	NewSecret   string
}

func (h *handlers) instrumentClientsProps(w http.ResponseWriter, r *http.Request) (InstrumentClientsProps, error) {
	cs, err := h.st.InstrumentClients(r.Context(), orgOf(r))
	return InstrumentClientsProps{Page: h.pageProps(w, r, text.T(r.Context()).AdminInstrumentClients, layout.NavAdmin), Clients: cs}, err
}

func (h *handlers) instrumentClients(w http.ResponseWriter, r *http.Request) {
	p, err := h.instrumentClientsProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.Render(w, r, http.StatusOK, InstrumentClientsPage(p))
}

// createClient issues credentials and shows the secret once (no redirect:
// the secret must not travel in a URL or a cookie).
func (h *handlers) createInstrumentClient(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	c, secret, err := h.st.CreateInstrumentClient(r.Context(), orgOf(r), name)
	var ve *store.ValidationError
	if err != nil && !errors.As(err, &ve) {
		h.fail(w, r, err)
		return
	}
	p, lerr := h.instrumentClientsProps(w, r)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	if ve != nil {
		p.Name, p.Errors = name, ve.Fields
		layout.Render(w, r, http.StatusUnprocessableEntity, InstrumentClientsPage(p))
		return
	}
	p.NewClientID, p.NewSecret = c.ClientID, secret
	w.Header().Set("Cache-Control", "no-store")
	layout.Render(w, r, http.StatusCreated, InstrumentClientsPage(p))
}

func (h *handlers) revokeInstrumentClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("client_id")
	if err := h.st.RevokeInstrumentClient(r.Context(), orgOf(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, "Client "+id+" revoked: its tokens stop working now.")
	http.Redirect(w, r, "/admin/instrument-clients", http.StatusSeeOther)
}

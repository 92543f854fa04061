package admin

import (
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
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
	h.render(w, r, http.StatusOK, InstrumentClientsPage(p))
}

// createInstrumentClient: POST /admin/instrument-clients. The secret is
// shown in this response only.
func (h *handlers) createInstrumentClient(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	name := r.PostForm.Get("name")
	c, secret, err := h.st.CreateInstrumentClient(r.Context(), orgOf(r), name)
	issued(h, w, r, http.StatusCreated, err, func() (InstrumentClientsProps, error) { return h.instrumentClientsProps(w, r) }, InstrumentClientsPage,
		func(p *InstrumentClientsProps, bad map[string]string) { p.Name, p.Errors = name, bad },
		func(p *InstrumentClientsProps) { p.NewClientID, p.NewSecret = c.ClientID, secret })
}

// revokeInstrumentClient: POST /admin/instrument-clients/{client_id}/revoke.
func (h *handlers) revokeInstrumentClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("client_id")
	h.revoked(w, r, h.st.RevokeInstrumentClient(r.Context(), orgOf(r), id),
		i18n.T(r.Context(), "Adm1InstrClientRevoked", "ID", id), "/admin/instrument-clients")
}

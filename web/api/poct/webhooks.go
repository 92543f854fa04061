package poct

import (
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type webhookJSON struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"` // only in the answer to its creation
	CreatedAt string   `json:"created_at"`
}

// listWebhooks: GET /api/poct/v1/webhooks.
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	ws, err := h.store.PoctWebhooks(r.Context(), orgID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[webhookJSON]{Data: make([]webhookJSON, 0, len(ws))}
	for _, wh := range ws {
		out.Data = append(out.Data, webhookJSON{ID: wh.UUID, URL: wh.URL, Events: wh.Events, CreatedAt: rfc3339(wh.CreatedAt)})
	}
	httpx.JSON(w, http.StatusOK, out)
}

type webhookInput struct {
	URL    string   `json:"url" format:"uri"`
	Events []string `json:"events"`
}

// createWebhook: POST /api/poct/v1/webhooks {"url","events"}. The answer
// carries the signing secret; it is not shown again.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	wh := &store.PoctWebhook{URL: in.URL, Events: in.Events}
	if err := h.store.CreatePoctWebhook(r.Context(), orgID(r), wh); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusCreated, webhookJSON{ID: wh.UUID, URL: wh.URL, Events: wh.Events, Secret: wh.Secret,
		CreatedAt: rfc3339(wh.CreatedAt)})
}

// deleteWebhook: DELETE /api/poct/v1/webhooks/{webhook_id}.
func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := h.store.DeletePoctWebhook(r.Context(), orgID(r), r.PathValue("webhook_id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

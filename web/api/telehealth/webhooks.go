package telehealth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// webhookInput is the body of POST and PUT /qapi/v1/webhooks.
type webhookInput struct {
	Endpoint *string          `json:"endpoint"`
	Events   *json.RawMessage `json:"events"`
}

// decode validates presence and types with the face's messages and returns
// the endpoint and events.
func (in *webhookInput) decode() (string, []string, error) {
	var v store.Validator
	endpoint := ""
	if in.Endpoint == nil {
		v.Add("endpoint", "This value should not be blank.")
	} else {
		endpoint = *in.Endpoint
	}
	var events []string
	if in.Events == nil {
		v.Add("events", "This value should not be blank.")
	} else if err := json.Unmarshal(*in.Events, &events); err != nil {
		v.Add("events", "This value should be of type array of strings.")
	}
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	return endpoint, events, nil
}

// webhookJSON is a webhook as the API shows it. EncryptionKey appears only
// where the spec shows it: on create and on GET of a single webhook.
type webhookJSON struct {
	ID            string   `json:"id"`
	Endpoint      string   `json:"endpoint"`
	Events        []string `json:"events"`
	EncryptionKey string   `json:"encryptionKey,omitempty"`
}

func toWebhookJSON(w *store.Webhook, withKey bool) webhookJSON {
	out := webhookJSON{ID: w.UUID, Endpoint: w.Endpoint, Events: w.Events}
	if out.Events == nil {
		out.Events = []string{}
	}
	if withKey {
		out.EncryptionKey = w.EncryptionKey
	}
	return out
}

// createWebhook: POST /qapi/v1/webhooks. Answers 201 with the webhook and
// its encryptionKey.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	endpoint, events, err := in.decode()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hook := &store.Webhook{Endpoint: endpoint, Events: events}
	if err := h.store.CreateWebhook(r.Context(), orgID(r), hook); err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, toWebhookJSON(hook, true))
}

// listWebhooks: GET /qapi/v1/webhooks. Active webhooks, oldest first,
// without their keys (as documented).
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := h.store.Webhooks(r.Context(), orgID(r), false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]webhookJSON, len(hooks))
	for i := range hooks {
		out[i] = toWebhookJSON(&hooks[i], false)
	}
	httpx.JSON(w, http.StatusOK, out)
}

// activeWebhook finds the {webhookId} of the path; a deactivated (deleted)
// webhook is not found.
func (h *Handler) activeWebhook(r *http.Request) (*store.Webhook, error) {
	id := strings.ToLower(r.PathValue("webhookId"))
	if !store.IsUUID(id) {
		return nil, notFound("Webhook")
	}
	hook, err := h.store.Webhook(r.Context(), orgID(r), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !hook.Active) {
		return nil, notFound("Webhook")
	}
	return hook, err
}

// getWebhook: GET /qapi/v1/webhooks/{webhookId}, with its encryptionKey.
func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := h.activeWebhook(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWebhookJSON(hook, true))
}

// updateWebhook: PUT /qapi/v1/webhooks/{webhookId}. Both fields are
// required (the whole webhook is replaced); the key stays the same and is
// not shown, as documented.
func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) {
	if _, err := h.activeWebhook(r); err != nil {
		h.fail(w, r, err)
		return
	}
	var in webhookInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	endpoint, events, err := in.decode()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hook, err := h.store.UpdateWebhook(r.Context(), orgID(r), strings.ToLower(r.PathValue("webhookId")), endpoint, events)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Webhook")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWebhookJSON(hook, false))
}

// deleteWebhook: DELETE /qapi/v1/webhooks/{webhookId}. Deactivates the
// webhook (its delivery log stays for the admin page); 204 No Content.
func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if _, err := h.activeWebhook(r); err != nil {
		h.fail(w, r, err)
		return
	}
	err := h.store.DeactivateWebhook(r.Context(), orgID(r), strings.ToLower(r.PathValue("webhookId")))
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Webhook")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

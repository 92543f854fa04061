package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// webhooks: GET /admin/integrations/webhooks.
func (h *handlers) webhooks(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	hooks, err := h.st.Webhooks(r.Context(), u.OrgID, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.st.WebhookDeliveries(r.Context(), u.OrgID, store.DeliveryFilter{Limit: 200})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, WebhooksPage(WebhooksProps{
		Page:     layout.PageProps{Title: text.T(r.Context()).AdminWebhooks, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)},
		Webhooks: hooks, Deliveries: ds,
	}))
}

// retryDelivery: POST /admin/integrations/webhooks/deliveries/{id}/retry.
func (h *handlers) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	u := auth.UserFrom(r.Context())
	err = h.st.RetryDelivery(r.Context(), u.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "Adm1CannotRetry"))
	} else if err != nil {
		h.fail(w, r, err)
		return
	} else {
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "Adm1RetryQueued"))
	}
	http.Redirect(w, r, "/admin/integrations/webhooks", http.StatusSeeOther)
}

// linking: GET /admin/integrations/linking.
func (h *handlers) linking(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	org, err := h.st.Org(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, LinkingPage(LinkingProps{
		Page:   layout.PageProps{Title: text.T(r.Context()).AdminLinking, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)},
		Secret: org.LinkingSecret, URL: "/integrations/linking",
	}))
}

// rotateLinkingSecret: POST /admin/integrations/linking/rotate.
func (h *handlers) rotateLinkingSecret(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	if _, err := h.st.RotateLinkingSecret(r.Context(), u.OrgID); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "Adm1LinkingRotated"))
	http.Redirect(w, r, "/admin/integrations/linking", http.StatusSeeOther)
}

func (h *handlers) placesProps(w http.ResponseWriter, r *http.Request) (PlacesProps, error) {
	u := auth.UserFrom(r.Context())
	ctx := r.Context()
	p := PlacesProps{Page: layout.PageProps{Title: text.T(r.Context()).AdminLocations, User: u, Active: layout.NavAdmin, Flash: layout.TakeFlash(w, r)},
		Form: map[string]string{}}
	var err error
	if p.Locations, err = h.st.Locations(ctx, u.OrgID); err != nil {
		return p, err
	}
	if p.CareLocations, err = h.st.CareLocations(ctx, u.OrgID); err != nil {
		return p, err
	}
	if p.Presets, err = h.st.ReportPresets(ctx, u.OrgID); err != nil {
		return p, err
	}
	if p.Rooms, err = h.st.WaitingRooms(ctx, u.OrgID); err != nil {
		return p, err
	}
	return p, nil
}

// places: GET /admin/integrations/locations.
func (h *handlers) places(w http.ResponseWriter, r *http.Request) {
	p, err := h.placesProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, PlacesPage(p))
}

// saved redirects after a successful save, or shows the form again with its
// field errors (prefix maps store field names to form field names).
func (h *handlers) saved(w http.ResponseWriter, r *http.Request, err error, rename map[string]string, okMsg string) {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p, perr := h.placesProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Errors = layout.Errors{}
		for k, v := range ve.Fields {
			if n, ok := rename[k]; ok {
				k = n
			}
			p.Errors[k] = layout.Message(r.Context(), v)
		}
		for k, v := range r.PostForm {
			p.Form[k] = strings.Join(v, ",")
		}
		h.render(w, r, http.StatusUnprocessableEntity, PlacesPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, okMsg)
	http.Redirect(w, r, "/admin/integrations/locations", http.StatusSeeOther)
}

func formID(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(r.PostForm.Get(name), 10, 64)
	return n
}

// createLocation: POST /admin/integrations/locations.
func (h *handlers) createLocation(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	u := auth.UserFrom(r.Context())
	l := &store.Location{Name: r.PostForm.Get("name"), GeolocationID: r.PostForm.Get("geolocationId"), WaitingRoomID: formID(r, "waitingRoom")}
	h.saved(w, r, h.st.SaveLocation(r.Context(), u.OrgID, l), nil, i18n.T(r.Context(), "Adm1LocationAdded"))
}

// createCareLocation: POST /admin/integrations/care-locations.
func (h *handlers) createCareLocation(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	u := auth.UserFrom(r.Context())
	f := r.PostForm
	c := &store.CareLocation{Name: f.Get("cl_name"), Building: f.Get("building"), Floor: f.Get("floor"),
		Department: f.Get("department"), Room: f.Get("room"), Bed: f.Get("bed"), DeviceSerial: f.Get("deviceSerial"),
		DeviceType: f.Get("deviceType"), LocationID: formID(r, "location")}
	var err error
	if mrn := strings.TrimSpace(f.Get("patientMrn")); mrn != "" {
		p, perr := h.st.PatientBy(r.Context(), u.OrgID, store.ByMRN, mrn)
		switch {
		case errors.Is(perr, store.ErrNotFound):
			err = store.Invalid("patientMrn", "no patient has this MRN")
		case perr != nil:
			err = perr
		default:
			c.PatientID = p.ID
		}
	}
	if err == nil {
		err = h.st.SaveCareLocation(r.Context(), u.OrgID, c)
	}
	h.saved(w, r, err, map[string]string{"name": "cl_name"}, i18n.T(r.Context(), "Adm1CareLocationAdded"))
}

// createReportPreset: POST /admin/integrations/report-presets.
func (h *handlers) createReportPreset(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	u := auth.UserFrom(r.Context())
	p := &store.ReportPreset{Name: r.PostForm.Get("preset_name"), Columns: r.PostForm["columns"]}
	h.saved(w, r, h.st.CreateReportPreset(r.Context(), u.OrgID, p), map[string]string{"name": "preset_name"}, i18n.T(r.Context(), "Adm1PresetAdded"))
}

// columnLabels is a preset's columns in words.
func columnLabels(ctx context.Context, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = i18n.T(ctx, "ReportColumn."+c)
	}
	return strings.Join(out, ", ")
}

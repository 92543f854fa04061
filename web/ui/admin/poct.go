package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// tokens: GET /admin/poct: the POCT API tokens and the other pages.
func (h *handlers) tokens(w http.ResponseWriter, r *http.Request) {
	p, err := h.tokensProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, TokensPage(p))
}

func (h *handlers) tokensProps(w http.ResponseWriter, r *http.Request) (TokensProps, error) {
	u := auth.UserFrom(r.Context())
	ts, err := h.st.PoctTokens(r.Context(), u.OrgID)
	p := TokensProps{Page: poctPageProps(w, r, i18n.T(r.Context(), "PoctNavLabel")), Tokens: ts,
		Name: layout.Field{Name: "name", Label: i18n.T(r.Context(), "PoctTokenName"), Required: true, TestID: "token-name",
			Hint: i18n.T(r.Context(), "PoctTokenNameHint")}}
	p.Page.Crumbs = []layout.Crumb{{Label: i18n.T(r.Context(), "AdminTitle"), Href: "/admin"}, {Label: i18n.T(r.Context(), "PoctNavLabel")}}
	return p, err
}

// createToken: POST /admin/poct/tokens. The token is shown in this answer
// only.
func (h *handlers) createToken(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	t := &store.PoctToken{Name: r.PostForm.Get("name")}
	token, err := h.st.CreatePoctToken(r.Context(), orgOf(r), t)
	issued(h, w, r, http.StatusOK, err, func() (TokensProps, error) { return h.tokensProps(w, r) }, TokensPage,
		func(p *TokensProps, bad map[string]string) {
			p.Name.Value, p.Name.Error = r.PostForm.Get("name"), bad["name"]
		},
		func(p *TokensProps) { p.NewToken, p.NewFor = token, t.Name })
}

// revokeToken: POST /admin/poct/tokens/{id}/revoke.
func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	h.revoked(w, r, h.st.RevokePoctToken(r.Context(), orgOf(r), pathID(r)),
		i18n.T(r.Context(), "PoctTokenRevoked"), "/admin/poct")
}

// fleet: GET /admin/poct/fleet (?fragment=1: the live table only). An
// admin sees their own clinic's devices and those of every clinic granted
// to them (a distributor).
func (h *handlers) fleet(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	orgs, err := h.st.FleetOrgs(r.Context(), u.ID, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids := make([]int64, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	devs, err := h.st.Fleet(r.Context(), ids...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := FleetProps{Devices: devs, Orgs: len(orgs), Now: h.st.Now()}
	for _, d := range devs {
		switch {
		case d.Status.State == store.DeviceConnected:
			p.Connected++
		default:
			p.Down++
		}
		if d.Status.QCState == "failed" {
			p.QCFailed++
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	if httpx.IsFragment(r) {
		h.render(w, r, http.StatusOK, FleetTable(p))
		return
	}
	p.Page = poctPageProps(w, r, i18n.T(r.Context(), "PoctNavFleet"))
	p.Page.Scripts = []string{"/assets/fleet.js"}
	h.render(w, r, http.StatusOK, FleetPage(p))
}

// fleetEvents: GET /admin/poct/fleet/events: server-sent events that make
// the open fleet page refresh its table.
func (h *handlers) fleetEvents(w http.ResponseWriter, r *http.Request) {
	if h.live == nil {
		http.Error(w, i18n.T(r.Context(), "PlainLiveOff"), http.StatusServiceUnavailable)
		return
	}
	keep := func(e store.Event) bool {
		return slices.Contains([]string{store.EventDeviceStatus, store.EventDeviceCreated, store.EventDeviceUpdated,
			store.EventDeviceRemoved, store.EventDeviceMessage, store.EventQCFailed}, e.Type)
	}
	h.live.Stream(w, r, auth.UserFrom(r.Context()).OrgID, keep)
}

// qc: GET /admin/poct/qc: every control series with its chart and runs.
func (h *handlers) qc(w http.ResponseWriter, r *http.Request) {
	p, err := h.qcProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, QCPage(p))
}

func (h *handlers) qcProps(w http.ResponseWriter, r *http.Request) (QCProps, error) {
	u := auth.UserFrom(r.Context())
	ctx := r.Context()
	p := QCProps{Page: poctPageProps(w, r, i18n.T(r.Context(), "PoctNavQC")), Form: map[string]string{}}
	controls, err := h.st.QCControls(ctx, u.OrgID)
	if err != nil {
		return p, err
	}
	for _, c := range controls {
		runs, err := h.st.QCSeries(ctx, u.OrgID, c.DeviceID, c.Code, c.Lot, c.Level, 40)
		if err != nil {
			return p, err
		}
		t, err := h.st.QCTarget(ctx, u.OrgID, c.DeviceID, c.Code, c.Lot, c.Level)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return p, err
		}
		title := c.DeviceName + " · " + c.Code + " · lot " + c.Lot
		if c.Level != "" {
			title += " · level " + c.Level
		}
		slices.Reverse(runs) // newest first in the table
		table := runs
		if len(table) > 10 {
			table = table[:10]
		}
		chartRuns := slices.Clone(runs)
		slices.Reverse(chartRuns)
		p.Series = append(p.Series, QCSeries{Control: c, Target: t, Title: title, Chart: LeveyJennings(chartRuns, t, title), Recent: table})
	}
	if p.Devices, err = h.st.Devices(ctx, u.OrgID, store.DeviceFilter{}); err != nil {
		return p, err
	}
	return p, nil
}

// saveTarget: POST /admin/poct/qc/targets.
func (h *handlers) saveTarget(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	u := auth.UserFrom(r.Context())
	f := r.PostForm
	num := func(s string) (float64, bool) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", "."), 64)
		return v, err == nil
	}
	dev, _ := strconv.ParseInt(f.Get("device"), 10, 64)
	t := &store.QCTarget{DeviceID: dev, Code: f.Get("code"), Lot: f.Get("lot"), Level: f.Get("level"), Unit: f.Get("unit")}
	var err error
	mean, okMean := num(f.Get("mean"))
	sd, okSD := num(f.Get("sd"))
	t.Mean, t.SD = mean, sd
	switch {
	case !okMean:
		err = store.Invalid("mean", "must be a number")
	case !okSD:
		err = store.Invalid("sd", "must be a number")
	default:
		err = h.st.SaveQCTarget(r.Context(), u.OrgID, t)
	}
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p, perr := h.qcProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Errors = layout.LocalFields(r.Context(), ve.Fields)
		for k := range f {
			p.Form[k] = f.Get(k)
		}
		h.render(w, r, http.StatusUnprocessableEntity, QCPage(p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "QCTargetSaved", "Code", t.Code, "Lot", t.Lot))
	http.Redirect(w, r, "/admin/poct/qc", http.StatusSeeOther)
}

// lis: GET /admin/poct/lis.
func (h *handlers) lis(w http.ResponseWriter, r *http.Request) {
	p, err := h.lisProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, LISPage(p))
}

func (h *handlers) lisProps(w http.ResponseWriter, r *http.Request) (LISProps, error) {
	u := auth.UserFrom(r.Context())
	ctx := r.Context()
	p := LISProps{Page: poctPageProps(w, r, i18n.T(r.Context(), "PoctNavLIS")), Form: map[string]string{}}
	var err error
	if p.Destinations, err = h.st.LISDestinations(ctx, u.OrgID); err != nil {
		return p, err
	}
	if p.Messages, err = h.st.LISMessages(ctx, u.OrgID, 100); err != nil {
		return p, err
	}
	if p.Map, err = h.st.CodeMapVersion(ctx, u.OrgID, 0); err != nil {
		return p, err
	}
	if p.Versions, err = h.st.CodeMapVersions(ctx, u.OrgID); err != nil {
		return p, err
	}
	var lines []string
	for _, e := range p.Map.Entries {
		lines = append(lines, strings.TrimSpace(e.DeviceCode+" "+e.System+" "+e.Code+" "+e.Display))
	}
	p.MapText = strings.Join(lines, "\n")
	return p, nil
}

func (h *handlers) lisInvalid(w http.ResponseWriter, r *http.Request, ve *store.ValidationError, mapText string) {
	p, err := h.lisProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Errors = layout.LocalFields(r.Context(), ve.Fields)
	for k := range r.PostForm {
		p.Form[k] = r.PostForm.Get(k)
	}
	if mapText != "" {
		p.MapText = mapText
	}
	h.render(w, r, http.StatusUnprocessableEntity, LISPage(p))
}

// addLIS: POST /admin/poct/lis.
func (h *handlers) addLIS(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	f := r.PostForm
	port, _ := strconv.Atoi(f.Get("port"))
	d := &store.LISDestination{Name: f.Get("name"), Host: f.Get("host"), Port: port, TLS: f.Get("tls") == "on",
		HL7Version: f.Get("hl7Version"), Send: f.Get("send"), MatchedOnly: f.Get("matchedOnly") == "on",
		ReceivingApp: f.Get("receivingApp"), ReceivingFacility: f.Get("receivingFacility"),
		TLSCA: f.Get("ca"), TLSPin: f.Get("pin")}
	err := h.st.AddLISDestination(r.Context(), auth.UserFrom(r.Context()).OrgID, d)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		h.lisInvalid(w, r, ve, "")
		return
	}
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		h.lisInvalid(w, r, &store.ValidationError{Fields: map[string]string{"name": ce.Msg}}, "")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "LISAdded", "Name", d.Name, "Addr", d.Addr()))
	http.Redirect(w, r, "/admin/poct/lis", http.StatusSeeOther)
}

// removeLIS: POST /admin/poct/lis/{name}/remove.
func (h *handlers) removeLIS(w http.ResponseWriter, r *http.Request) {
	err := h.st.RemoveLISDestination(r.Context(), auth.UserFrom(r.Context()).OrgID, r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "LISRemoved", "Name", r.PathValue("name")))
	http.Redirect(w, r, "/admin/poct/lis", http.StatusSeeOther)
}

// retryLIS: POST /admin/poct/lis/messages/{id}/retry.
func (h *handlers) retryLIS(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	err := h.st.RetryLISMessage(r.Context(), auth.UserFrom(r.Context()).OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "LISNotWaiting"))
	} else if err != nil {
		h.fail(w, r, err)
		return
	} else {
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "LISResent"))
	}
	http.Redirect(w, r, "/admin/poct/lis", http.StatusSeeOther)
}

// publishCodeMap: POST /admin/poct/codemap with the table as text, one
// mapping a line: DEVICE_CODE SYSTEM CODE [display].
func (h *handlers) publishCodeMap(w http.ResponseWriter, r *http.Request) {
	if !h.parse(w, r) {
		return
	}
	text := r.PostForm.Get("map")
	var entries []store.CodeMapEntry
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			h.lisInvalid(w, r, &store.ValidationError{Fields: map[string]string{"map": "line " + strconv.Itoa(i+1) +
				": write DEVICE_CODE SYSTEM CODE [display], e.g. GLU LOINC 2345-7 Glucose"}}, text)
			return
		}
		entries = append(entries, store.CodeMapEntry{DeviceCode: f[0], System: f[1], Code: f[2], Display: strings.Join(f[3:], " ")})
	}
	m, err := h.st.PublishCodeMap(r.Context(), auth.UserFrom(r.Context()).OrgID, entries, r.PostForm.Get("note"))
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, 0, len(ve.Fields))
		for k, v := range ve.Fields {
			msgs = append(msgs, k+": "+layout.Message(r.Context(), v))
		}
		slices.Sort(msgs)
		h.lisInvalid(w, r, &store.ValidationError{Fields: map[string]string{"map": strings.Join(msgs, "; ")}}, text)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "LISMapPublished", "Version", m.Version, "N", m.Size))
	http.Redirect(w, r, "/admin/poct/lis", http.StatusSeeOther)
}

// poctWebhooks: GET /admin/poct/webhooks: subscriptions and the delivery log.
func (h *handlers) poctWebhooks(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	hooks, err := h.st.PoctWebhooks(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.st.PoctDeliveries(r.Context(), u.OrgID, 200)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, PoctWebhooksPage(PoctWebhooksProps{Page: poctPageProps(w, r, i18n.T(r.Context(), "PoctWebhooksTitle")), Webhooks: hooks, Deliveries: ds}))
}

// resend: POST /admin/poct/webhooks/deliveries/{id}/resend.
func (h *handlers) resend(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	err := h.st.ResendPoctDelivery(r.Context(), auth.UserFrom(r.Context()).OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "PoctDeliveryGone"))
	} else if err != nil {
		h.fail(w, r, err)
		return
	} else {
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "PoctDeliveryResent"))
	}
	http.Redirect(w, r, "/admin/poct/webhooks", http.StatusSeeOther)
}

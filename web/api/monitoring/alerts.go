package monitoring

import (
	"errors"
	"net/http"
	"slices"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// wireAlert is an alert as this API shows it.
type wireAlert struct {
	ID             string   `json:"id"`
	EnrollmentID   string   `json:"enrollmentId"`
	PatientID      string   `json:"patientId"`
	PatientName    string   `json:"patientName"`
	RuleID         string   `json:"ruleId"`
	Severity       string   `json:"severity"`
	Status         string   `json:"status"`
	Message        string   `json:"message"`
	RaisedAt       string   `json:"raisedAt"`
	ResolvedAt     *string  `json:"resolvedAt"`
	ResolvedBy     *string  `json:"resolvedBy"`
	ResolutionNote *string  `json:"resolutionNote"`
	ObservationIDs []string `json:"observationIds"`
}

func toWireAlert(a *store.Alert) wireAlert {
	w := wireAlert{
		ID: prefixAlert + a.UUID, EnrollmentID: prefixEnrollment + a.EnrollmentUUID, PatientID: prefixPatient + a.PatientUUID,
		PatientName: a.PatientName, RuleID: prefixRule + itoa(a.RuleID), Severity: a.Severity, Status: a.Status,
		Message: a.Message, RaisedAt: rfc3339(a.RaisedAt), ObservationIDs: []string{},
	}
	if a.Status == store.AlertResolved {
		at, note := rfc3339(a.ResolvedAt), a.ResolutionNote
		w.ResolvedAt, w.ResolutionNote = &at, &note
		if a.ResolvedByUUID != "" {
			by := prefixUser + a.ResolvedByUUID
			w.ResolvedBy = &by
		}
	}
	for _, o := range a.Observations {
		w.ObservationIDs = append(w.ObservationIDs, prefixObs+o)
	}
	return w
}

// listAlerts: GET /api/alerts?status=&severity=&patientId=&enrollmentId=&limit=&cursor=.
func (h *Handler) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AlertFilter{Status: q.Get("status"), Severity: q.Get("severity")}
	var err error
	if f.Limit, err = limitParam(r, 100, 500); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Status != "" && f.Status != store.AlertOpen && f.Status != store.AlertResolved {
		h.fail(w, r, badRequest("status must be OPEN or RESOLVED"))
		return
	}
	if f.Severity != "" && !slices.Contains(store.Severities, f.Severity) {
		h.fail(w, r, badRequest("severity must be CRITICAL, HIGH, MEDIUM or LOW"))
		return
	}
	empty := func() { httpx.JSON(w, http.StatusOK, listResponse[wireAlert]{Data: []wireAlert{}}) }
	if pid := q.Get("patientId"); pid != "" {
		p, err := h.patient(r, pid)
		if err != nil {
			empty()
			return
		}
		f.PatientID = p.ID
	}
	if eid := q.Get("enrollmentId"); eid != "" {
		e, err := h.enrollment(r, eid)
		if err != nil {
			empty()
			return
		}
		f.EnrollmentID = e.ID
	}
	if c := q.Get("cursor"); c != "" {
		var cur idCursor
		if !decodeCursor(c, &cur) {
			h.fail(w, r, badRequest("cursor is not one this API gave out"))
			return
		}
		f.AfterID = cur.After
	}
	as, err := h.store.Alerts(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireAlert]{Data: make([]wireAlert, len(as))}
	for i := range as {
		out.Data[i] = toWireAlert(&as[i])
	}
	if len(as) == f.Limit {
		c := encodeCursor(idCursor{After: as[len(as)-1].ID})
		out.NextCursor = &c
	}
	httpx.JSON(w, http.StatusOK, out)
}

// triage: GET /api/alerts/triage?limit=.
func (h *Handler) triage(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100, 500)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, err := h.store.Triage(r.Context(), orgID(r), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireAlert]{Data: make([]wireAlert, len(as))}
	for i := range as {
		out.Data[i] = toWireAlert(&as[i])
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (h *Handler) alert(r *http.Request, wire string) (*store.Alert, error) {
	u, ok := modelID(prefixAlert, wire)
	if !ok {
		return nil, notFound("alert")
	}
	a, err := h.store.Alert(r.Context(), orgID(r), u)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("alert")
	}
	return a, err
}

// getAlert: GET /api/alerts/{id}.
func (h *Handler) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := h.alert(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWireAlert(a))
}

type resolveInput struct {
	Note string `json:"note" bound:"note"`
}

// resolveAlert: POST /api/alerts/{id}/resolve {"note": "..."}.
func (h *Handler) resolveAlert(w http.ResponseWriter, r *http.Request) {
	var in resolveInput
	if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	u, ok := modelID(prefixAlert, r.PathValue("id"))
	if !ok {
		h.fail(w, r, notFound("alert"))
		return
	}
	if err := h.resolve(r, []string{u}, in.Note); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.alert(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWireAlert(a))
}

func (h *Handler) resolve(r *http.Request, uuids []string, note string) error {
	err := h.store.ResolveAlerts(r.Context(), orgID(r), signInFrom(r.Context()).UserID, uuids, note)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("alert")
	}
	return err
}

type bulkResolveInput struct {
	AlertIDs []string `json:"alertIds"`
	Note     string   `json:"note" bound:"note"`
}

type bulkResolveResult struct {
	Resolved []string `json:"resolved"`
}

// bulkResolve: POST /api/alerts/bulk-resolve {"alertIds": [...], "note": "..."}.
// All or none: an unknown or already resolved alert fails the whole call.
func (h *Handler) bulkResolve(w http.ResponseWriter, r *http.Request) {
	var in bulkResolveInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	uuids := make([]string, 0, len(in.AlertIDs))
	for _, id := range in.AlertIDs {
		u, ok := modelID(prefixAlert, id)
		if !ok {
			h.fail(w, r, notFound("alert "+id))
			return
		}
		if !slices.Contains(uuids, u) {
			uuids = append(uuids, u)
		}
	}
	if err := h.resolve(r, uuids, in.Note); err != nil {
		h.fail(w, r, err)
		return
	}
	out := bulkResolveResult{Resolved: make([]string, len(uuids))}
	for i, u := range uuids {
		out.Resolved[i] = prefixAlert + u
	}
	httpx.JSON(w, http.StatusOK, out)
}

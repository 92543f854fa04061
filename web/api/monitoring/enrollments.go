package monitoring

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// wireEnrollment is an enrollment as this API shows it.
type wireEnrollment struct {
	ID         string     `json:"id"`
	PatientID  string     `json:"patientId"`
	Program    string     `json:"program"`
	Status     string     `json:"status"`
	Conditions []string   `json:"conditions"`
	Devices    []string   `json:"devices"`
	CareTeam   []string   `json:"careTeam"`
	StartDate  string     `json:"startDate"`
	EndDate    *string    `json:"endDate"`
	AlertRules []wireRule `json:"alertRules"`
	CreatedAt  string     `json:"createdAt"`
	UpdatedAt  string     `json:"updatedAt"`
}

// wireRule is an alert rule. type THRESHOLD: count readings of the metric
// compare operator threshold within windowHours; type NO_READING: no
// reading at all for windowHours.
type wireRule struct {
	ID                 string   `json:"id,omitempty"`
	Type               string   `json:"type"`
	MetricDefinitionID string   `json:"metricDefinitionId,omitempty"`
	Operator           string   `json:"operator,omitempty"`
	Threshold          *float64 `json:"threshold,omitempty"`
	Count              int      `json:"count,omitempty"`
	WindowHours        float64  `json:"windowHours"`
	Severity           string   `json:"severity"`
	Description        string   `json:"description,omitempty"`
}

var ruleKinds = map[string]string{"THRESHOLD": store.RuleThreshold, "NO_READING": store.RuleNoReading}

func toWireRule(r *store.AlertRule) wireRule {
	w := wireRule{ID: prefixRule + strconv.FormatInt(r.ID, 10), WindowHours: r.Window.Hours(), Severity: r.Severity, Description: r.Describe()}
	if r.Kind == store.RuleNoReading {
		w.Type = "NO_READING"
		return w
	}
	t := r.Threshold
	w.Type, w.MetricDefinitionID, w.Operator, w.Threshold, w.Count = "THRESHOLD", prefixMetric+r.MetricKey, r.Operator, &t, r.Count
	return w
}

// fromWire turns a rule of a request into the model's. A rule with an id
// names an existing rule, which is kept as it is.
func (w *wireRule) toModel(i int) (store.AlertRule, error) {
	field := fmt.Sprintf("alertRules[%d]", i)
	var r store.AlertRule
	if w.ID != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(w.ID, prefixRule), 10, 64)
		if err != nil || !strings.HasPrefix(w.ID, prefixRule) {
			return r, store.Invalid(field+".id", "is not a rule id")
		}
		r.ID = n
		return r, nil
	}
	kind, ok := ruleKinds[w.Type]
	if !ok {
		return r, store.Invalid(field+".type", "must be THRESHOLD or NO_READING")
	}
	r.Kind, r.Operator, r.Count, r.Severity = kind, w.Operator, w.Count, w.Severity
	if w.WindowHours <= 0 || w.WindowHours > 24*90 {
		return r, store.Invalid(field+".windowHours", "must be more than 0 and at most 2160 (90 days)")
	}
	r.Window = time.Duration(w.WindowHours * float64(time.Hour)).Round(time.Second)
	if kind == store.RuleThreshold {
		key, ok := modelID(prefixMetric, w.MetricDefinitionID)
		if !ok {
			return r, store.Invalid(field+".metricDefinitionId", "must be a metric definition id such as metric_bp_systolic")
		}
		if w.Threshold == nil {
			return r, store.Invalid(field+".threshold", "is required")
		}
		r.MetricKey, r.Threshold = key, *w.Threshold
	}
	return r, nil
}

// team maps a user's id to its wire id and back, for care teams.
type team struct {
	toWire  map[int64]string
	toModel map[string]int64
}

func (h *Handler) team(r *http.Request) (*team, error) {
	us, err := h.store.Users(r.Context(), orgID(r))
	if err != nil {
		return nil, err
	}
	t := &team{toWire: map[int64]string{}, toModel: map[string]int64{}}
	for _, u := range us {
		t.toWire[u.ID] = prefixUser + u.UUID
		t.toModel[prefixUser+u.UUID] = u.ID
	}
	return t, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toWireEnrollment(e *store.Enrollment, t *team) wireEnrollment {
	w := wireEnrollment{
		ID: prefixEnrollment + e.UUID, PatientID: prefixPatient + e.PatientUUID, Program: e.Program, Status: e.Status,
		Conditions: nonNil(e.Conditions), Devices: nonNil(e.Devices), CareTeam: []string{}, StartDate: e.StartDate,
		AlertRules: []wireRule{}, CreatedAt: rfc3339(e.CreatedAt), UpdatedAt: rfc3339(e.UpdatedAt),
	}
	if e.EndDate != "" {
		end := e.EndDate
		w.EndDate = &end
	}
	for _, id := range e.CareTeam {
		w.CareTeam = append(w.CareTeam, t.toWire[id])
	}
	for i := range e.Rules {
		w.AlertRules = append(w.AlertRules, toWireRule(&e.Rules[i]))
	}
	return w
}

// enrollmentInput is the body of create and update; on update a field left
// out keeps its value (alertRules, when sent, is the whole new list).
type enrollmentInput struct {
	PatientID  *string     `json:"patientId"`
	Program    *string     `json:"program" enum:"program"`
	Status     *string     `json:"status" enum:"enrollmentStatus"`
	Conditions *[]string   `json:"conditions" bound:"label"`
	Devices    *[]string   `json:"devices" bound:"label"`
	CareTeam   *[]string   `json:"careTeam"`
	StartDate  *string     `json:"startDate" format:"date"`
	EndDate    *string     `json:"endDate" format:"date"`
	AlertRules *[]wireRule `json:"alertRules"`
}

func (in *enrollmentInput) apply(e *store.Enrollment, t *team) error {
	if in.Program != nil {
		e.Program = *in.Program
	}
	if in.Status != nil {
		e.Status = *in.Status
	}
	if in.Conditions != nil {
		e.Conditions = *in.Conditions
	}
	if in.Devices != nil {
		e.Devices = *in.Devices
	}
	if in.StartDate != nil {
		e.StartDate = *in.StartDate
	}
	if in.EndDate != nil {
		e.EndDate = *in.EndDate
	}
	if in.CareTeam != nil {
		e.CareTeam = e.CareTeam[:0]
		for _, wid := range *in.CareTeam {
			id, ok := t.toModel[wid]
			if !ok {
				return store.Invalid("careTeam", "names "+strconv.Quote(wid)+", who is not a member of the organisation")
			}
			e.CareTeam = append(e.CareTeam, id)
		}
	}
	if in.AlertRules != nil {
		if len(*in.AlertRules) > 50 {
			return store.Invalid("alertRules", "must have at most 50 rules")
		}
		existing := map[int64]store.AlertRule{}
		for _, r := range e.Rules {
			existing[r.ID] = r
		}
		rules := []store.AlertRule{}
		for i := range *in.AlertRules {
			r, err := (*in.AlertRules)[i].toModel(i)
			if err != nil {
				return err
			}
			if old, ok := existing[r.ID]; ok && r.ID != 0 {
				r = old
			}
			rules = append(rules, r)
		}
		e.Rules = rules
	}
	return nil
}

// createEnrollment: POST /api/enrollments. Without alertRules the
// enrollment gets the default rules; with [] it gets none.
func (h *Handler) createEnrollment(w http.ResponseWriter, r *http.Request) {
	var in enrollmentInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.team(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in.PatientID == nil {
		h.fail(w, r, store.Invalid("patientId", "is required"))
		return
	}
	p, err := h.patient(r, *in.PatientID)
	if err != nil {
		h.fail(w, r, store.Invalid("patientId", "no such patient"))
		return
	}
	e := &store.Enrollment{PatientID: p.ID}
	if in.StartDate == nil {
		e.StartDate = h.now().Format(time.DateOnly)
	}
	for _, rule := range derefRules(in.AlertRules) {
		if rule.ID != "" {
			h.fail(w, r, store.Invalid("alertRules", "a new enrollment's rules cannot name existing rules"))
			return
		}
	}
	if err := in.apply(e, t); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.AlertRules == nil {
		e.Rules = store.DefaultAlertRules()
	}
	if err := h.store.CreateEnrollment(r.Context(), orgID(r), e); err != nil {
		h.fail(w, r, err)
		return
	}
	e.PatientUUID = p.UUID
	w.Header().Set("Location", "/api/enrollments/"+prefixEnrollment+e.UUID)
	httpx.JSON(w, http.StatusCreated, toWireEnrollment(e, t))
}

func derefRules(p *[]wireRule) []wireRule {
	if p == nil {
		return nil
	}
	return *p
}

// listEnrollments: GET /api/enrollments?patientId=&program=&status=&limit=&cursor=.
func (h *Handler) listEnrollments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.EnrollmentFilter{Program: q.Get("program"), Status: q.Get("status")}
	var err error
	if f.Limit, err = limitParam(r, 100, 500); err != nil {
		h.fail(w, r, err)
		return
	}
	if pid := q.Get("patientId"); pid != "" {
		p, err := h.patient(r, pid)
		if err != nil {
			httpx.JSON(w, http.StatusOK, listResponse[wireEnrollment]{Data: []wireEnrollment{}})
			return
		}
		f.PatientID = p.ID
	}
	if c := q.Get("cursor"); c != "" {
		var cur idCursor
		if !decodeCursor(c, &cur) {
			h.fail(w, r, badRequest("cursor is not one this API gave out"))
			return
		}
		f.AfterID = cur.After
	}
	es, err := h.store.Enrollments(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.team(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireEnrollment]{Data: make([]wireEnrollment, len(es))}
	for i := range es {
		out.Data[i] = toWireEnrollment(&es[i], t)
	}
	if len(es) == f.Limit {
		c := encodeCursor(idCursor{After: es[len(es)-1].ID})
		out.NextCursor = &c
	}
	httpx.JSON(w, http.StatusOK, out)
}

// enrollment resolves a wire enrollment id of the caller's organisation.
func (h *Handler) enrollment(r *http.Request, wire string) (*store.Enrollment, error) {
	u, ok := modelID(prefixEnrollment, wire)
	if !ok {
		return nil, notFound("enrollment")
	}
	e, err := h.store.Enrollment(r.Context(), orgID(r), u)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("enrollment")
	}
	return e, err
}

// getEnrollment: GET /api/enrollments/{id}.
func (h *Handler) getEnrollment(w http.ResponseWriter, r *http.Request) {
	e, err := h.enrollment(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.team(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWireEnrollment(e, t))
}

// updateEnrollment: PUT /api/enrollments/{id}.
func (h *Handler) updateEnrollment(w http.ResponseWriter, r *http.Request) {
	u, ok := modelID(prefixEnrollment, r.PathValue("id"))
	if !ok {
		h.fail(w, r, notFound("enrollment"))
		return
	}
	var in enrollmentInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.PatientID != nil {
		h.fail(w, r, store.Invalid("patientId", "cannot change: enroll the other patient instead"))
		return
	}
	t, err := h.team(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	e, err := h.store.UpdateEnrollment(r.Context(), orgID(r), u, func(e *store.Enrollment) error {
		known := map[int64]bool{}
		for _, rule := range e.Rules {
			known[rule.ID] = true
		}
		if err := in.apply(e, t); err != nil {
			return err
		}
		for i, rule := range e.Rules {
			if rule.ID != 0 && !known[rule.ID] {
				return store.Invalid(fmt.Sprintf("alertRules[%d].id", i), "is not a rule of this enrollment")
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("enrollment")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWireEnrollment(e, t))
}

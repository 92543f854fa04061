package monitoring

import (
	"net/http"
	"sort"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/billingcsv"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type wireCodeLine struct {
	Code  string `json:"code"`
	Units int    `json:"units"`
}

type wireRequirement struct {
	Code    string `json:"code"`
	Met     bool   `json:"met"`
	Missing string `json:"missing,omitempty"`
}

// wireBilling is one enrollment's month.
type wireBilling struct {
	EnrollmentID string            `json:"enrollmentId"`
	PatientID    string            `json:"patientId"`
	PatientName  string            `json:"patientName"`
	Program      string            `json:"program"`
	Month        string            `json:"month"`
	ReadingDays  int               `json:"readingDays"`
	Minutes      int               `json:"minutes"`
	Interactive  bool              `json:"interactiveCommunication"`
	Codes        []wireCodeLine    `json:"codes"`
	Requirements []wireRequirement `json:"requirements"`
}

func toWireBilling(b *store.BillingMonth) wireBilling {
	w := wireBilling{
		EnrollmentID: prefixEnrollment + b.Enrollment.UUID, PatientID: prefixPatient + b.Enrollment.PatientUUID,
		PatientName: strings.TrimSpace(b.PatientName), Program: b.Enrollment.Program, Month: b.Month,
		ReadingDays: b.ReadingDays, Minutes: b.Minutes, Interactive: b.Interactive,
		Codes: []wireCodeLine{}, Requirements: []wireRequirement{},
	}
	for _, l := range b.Lines {
		w.Codes = append(w.Codes, wireCodeLine{l.Code, l.Units})
	}
	for _, r := range b.Requirements {
		w.Requirements = append(w.Requirements, wireRequirement{r.Code, r.Met, r.Missing})
	}
	return w
}

type wireSummary struct {
	OrganizationID string         `json:"organizationId"`
	Month          string         `json:"month"`
	Totals         []wireCodeLine `json:"totals"`
	Enrollments    []wireBilling  `json:"enrollments"`
}

// summary checks the path's organisation against the caller's and
// computes the month.
func (h *Handler) summary(w http.ResponseWriter, r *http.Request) ([]store.BillingMonth, bool) {
	si := signInFrom(r.Context())
	if r.PathValue("orgId") != prefixOrg+si.OrgUUID {
		writeError(w, http.StatusForbidden, codeOrgForbidden, "you are not a member of that organisation")
		return nil, false
	}
	bs, err := h.store.BillingSummary(r.Context(), si.OrgID, r.PathValue("month"))
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return bs, true
}

// billingSummary: GET /api/billing/summary/{orgId}/{month}.
func (h *Handler) billingSummary(w http.ResponseWriter, r *http.Request) {
	bs, ok := h.summary(w, r)
	if !ok {
		return
	}
	out := wireSummary{OrganizationID: r.PathValue("orgId"), Month: r.PathValue("month"), Totals: []wireCodeLine{}, Enrollments: []wireBilling{}}
	totals := map[string]int{}
	for i := range bs {
		out.Enrollments = append(out.Enrollments, toWireBilling(&bs[i]))
		for _, l := range bs[i].Lines {
			totals[l.Code] += l.Units
		}
	}
	for code, n := range totals {
		out.Totals = append(out.Totals, wireCodeLine{code, n})
	}
	sort.Slice(out.Totals, func(i, j int) bool { return out.Totals[i].Code < out.Totals[j].Code })
	httpx.JSON(w, http.StatusOK, out)
}

// billingReadiness: GET /api/billing/readiness/{enrollmentId}/{month}.
func (h *Handler) billingReadiness(w http.ResponseWriter, r *http.Request) {
	u, ok := modelID(prefixEnrollment, r.PathValue("enrollmentId"))
	if !ok {
		h.fail(w, r, notFound("enrollment"))
		return
	}
	b, err := h.store.EnrollmentBilling(r.Context(), orgID(r), u, r.PathValue("month"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWireBilling(b))
}

// CSVHeader is the export's header row (the pages' export writes the same).
var CSVHeader = billingcsv.Header

// billingExport: GET /api/billing/export/{orgId}/{month} (text/csv): one
// row per billable code and enrollment.
func (h *Handler) billingExport(w http.ResponseWriter, r *http.Request) {
	bs, ok := h.summary(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+billingcsv.Filename(r.PathValue("month"))+`"`)
	// The status line is sent; a write error is the client going away.
	_ = billingcsv.Write(w, bs)
}

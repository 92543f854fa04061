package poct

import (
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// listPatients: GET /api/poct/v1/patients?identifier= | ?q=&limit=&cursor=.
// ?identifier= finds patients by any identifier (MRN, national id, the
// client's id); ?q= searches names and identifiers by prefix.
func (h *Handler) listPatients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := limit(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := page[patientJSON]{Data: []patientJSON{}}
	if id := strings.TrimSpace(q.Get("identifier")); id != "" {
		ids, err := h.store.PatientIDsByIdentifier(r.Context(), orgID(r), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, pid := range ids {
			p, err := h.store.Patient(r.Context(), orgID(r), pid)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			out.Data = append(out.Data, toPatient(p))
		}
		httpx.JSON(w, http.StatusOK, out)
		return
	}
	// The patient search pages by offset; the cursor carries it.
	offset, err := afterCursor(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ps, total, err := h.store.Patients(r.Context(), orgID(r), store.PatientFilter{Query: q.Get("q"), Limit: min(n, 200), Offset: int(offset)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range ps {
		out.Data = append(out.Data, toPatient(&ps[i]))
	}
	if next := int(offset) + len(ps); len(ps) > 0 && next < total {
		out.NextCursor = cursor(int64(next))
	}
	httpx.JSON(w, http.StatusOK, out)
}

// getPatient: GET /api/poct/v1/patients/{patient_id}.
func (h *Handler) getPatient(w http.ResponseWriter, r *http.Request) {
	p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, r.PathValue("patient_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "patient", p.UUID, p.ID)
	httpx.JSON(w, http.StatusOK, toPatient(p))
}

type patientInput struct {
	MRN        string `json:"mrn" bound:"patientIdentifier"`
	NationalID string `json:"national_id" bound:"patientIdentifier"`
	ExternalID string `json:"external_id" bound:"id"`
	FamilyName string `json:"family_name" bound:"namePart"`
	GivenName  string `json:"given_name" bound:"namePart"`
	BirthDate  string `json:"birth_date"`
	Gender     string `json:"gender"`
}

// createPatient: POST /api/poct/v1/patients.
func (h *Handler) createPatient(w http.ResponseWriter, r *http.Request) {
	var in patientInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	p := &store.Patient{MRN: in.MRN, NationalID: in.NationalID, ExternalID: in.ExternalID, BirthDate: in.BirthDate,
		Gender: in.Gender, Active: true,
		Names: []store.HumanName{{Use: "official", FirstName: in.GivenName, LastName: in.FamilyName, Family: in.FamilyName}}}
	if err := h.store.CreatePatient(r.Context(), orgID(r), p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/poct/v1/patients/"+p.UUID)
	httpx.JSON(w, http.StatusCreated, toPatient(p))
}

package telehealth

import (
	"fmt"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type documentInput struct {
	Name      *string `json:"name" bound:"shortText"`
	DateTime  *int64  `json:"dateTime"`
	Responses *[]struct {
		Question *string `json:"question" bound:"longText"`
		Response *string `json:"response" bound:"longText"`
	} `json:"responses"`
}

// createPatientDocument: POST /qapi/v1/patients/{patient_id}/documents.
// Every field is required; answers 201 with [] as the spec shows.
func (h *Handler) createPatientDocument(w http.ResponseWriter, r *http.Request) {
	var in documentInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	if in.Name == nil || *in.Name == "" {
		v.Add("name", "is required")
	}
	if in.DateTime == nil {
		v.Add("dateTime", "is required")
	} else if *in.DateTime <= 0 {
		v.Add("dateTime", "must be a unix timestamp")
	}
	var responses []store.DocumentResponse
	if in.Responses == nil {
		v.Add("responses", "is required")
	} else {
		for i, rs := range *in.Responses {
			if rs.Question == nil || *rs.Question == "" {
				v.Add(fmt.Sprintf("responses[%d].question", i), "is required")
			}
			if rs.Response == nil {
				v.Add(fmt.Sprintf("responses[%d].response", i), "is required")
			}
			if rs.Question != nil && rs.Response != nil {
				responses = append(responses, store.DocumentResponse{Question: *rs.Question, Response: *rs.Response})
			}
		}
	}
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.patientFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &store.PatientDocument{PatientID: p.ID, Name: *in.Name, DateTime: time.Unix(*in.DateTime, 0), Responses: responses}
	if err := h.store.CreatePatientDocument(r.Context(), orgID(r), d); err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, []any{})
}

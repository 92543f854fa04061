package telehealth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/envelope"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// maxLinkingArg bounds the encrypted argument (a context is a few hundred
// bytes).
const maxLinkingArg = 8 << 10

// linkingContext is the decrypted, validated JSON of a linking argument.
type linkingContext struct {
	User    string
	Type    string // patient, medicalAssistant, provider
	Visit   string
	Date    float64
	Patient struct {
		ID, Sex, DOB, FirstName, LastName string
	}
}

var linkingTypes = []string{"patient", "medicalAssistant", "provider"}

// parseLinkingContext checks plain against the documented JSON schema:
// every property of the right JSON type, enums and the date format, all
// required ones present. Field errors name the property ("patient.dob").
func parseLinkingContext(plain []byte) (*linkingContext, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(plain, &top); err != nil {
		return nil, store.Invalid("arg", "The decrypted data is not a JSON object.")
	}
	var v store.Validator
	var c linkingContext
	str := func(m map[string]json.RawMessage, prefix, name string, dst *string) {
		raw, ok := m[name]
		if !ok {
			v.Add(prefix+name, "This value is required.")
			return
		}
		if err := json.Unmarshal(raw, dst); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			v.Add(prefix+name, "This value should be of type string.")
		}
	}
	str(top, "", "user", &c.User)
	str(top, "", "type", &c.Type)
	if c.Type != "" && !slices.Contains(linkingTypes, c.Type) {
		v.Add("type", "The value you selected is not a valid choice. Valid choices: patient, medicalAssistant, provider.")
	}
	str(top, "", "visit", &c.Visit)
	if raw, ok := top["date"]; !ok {
		v.Add("date", "This value is required.")
	} else if err := json.Unmarshal(raw, &c.Date); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		v.Add("date", "This value should be of type number.")
	}
	if raw, ok := top["patient"]; !ok {
		v.Add("patient", "This value is required.")
	} else {
		var p map[string]json.RawMessage
		if err := json.Unmarshal(raw, &p); err != nil || p == nil {
			v.Add("patient", "This value should be of type object.")
		} else {
			str(p, "patient.", "id", &c.Patient.ID)
			str(p, "patient.", "sex", &c.Patient.Sex)
			if c.Patient.Sex != "" && !slices.Contains(store.Genders, c.Patient.Sex) {
				v.Add("patient.sex", "The value you selected is not a valid choice. Valid choices: male, female, other, unknown.")
			}
			str(p, "patient.", "dob", &c.Patient.DOB)
			if _, ok := p["dob"]; ok && c.Patient.DOB != "" {
				if _, err := time.Parse("2006-01-02", c.Patient.DOB); err != nil {
					v.Add("patient.dob", "This value is not a valid date.")
				}
			} else if ok {
				v.Add("patient.dob", "This value is not a valid date.")
			}
			str(p, "patient.", "firstName", &c.Patient.FirstName)
			str(p, "patient.", "lastName", &c.Patient.LastName)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// decryptLinkingArg finds the organisation whose linking secret opens arg.
// The request carries no Api-Key, so each organisation's secret is tried (an
// appliance usually has one). A secret "opens" the argument when the
// PKCS#7 padding checks out and the plaintext is a JSON object: a wrong
// secret passes the padding check about once in 256 tries, never both.
func (h *Handler) decryptLinkingArg(r *http.Request, arg string) (*store.Org, []byte, error) {
	orgs, err := h.store.Orgs(r.Context())
	if err != nil {
		return nil, nil, err
	}
	malformed := false
	for i := range orgs {
		if orgs[i].LinkingSecret == "" {
			continue
		}
		plain, err := envelope.Open(orgs[i].LinkingSecret, arg)
		if errors.Is(err, envelope.ErrMalformed) {
			malformed = true
			break
		}
		if err == nil && json.Valid(plain) && bytes.HasPrefix(bytes.TrimSpace(plain), []byte("{")) {
			return &orgs[i], plain, nil
		}
	}
	if malformed {
		return nil, nil, store.Invalid("arg", "This value is not a valid encrypted argument: expected URL-encoded base64(salt) + base64(IV) + base64(AES-256-CBC data).")
	}
	return nil, nil, store.Invalid("arg", "This value cannot be decrypted with the linking secret.")
}

// linking: GET /integrations/linking?arg=... Context-aware linking: decrypts
// and validates the context, then redirects (302) to the visit named by
// "visit" (the appointment's integer id, SAID): the patient link for type
// patient, the provider link for provider and medicalAssistant.
func (h *Handler) linking(w http.ResponseWriter, r *http.Request) {
	arg := r.URL.Query().Get("arg")
	if arg == "" {
		h.fail(w, r, store.Invalid("arg", "This value should not be blank."))
		return
	}
	if len(arg) > maxLinkingArg {
		h.fail(w, r, store.Invalid("arg", "This value is too long."))
		return
	}
	// A client that forgot to URL-encode turns every "+" into a space;
	// base64 has no spaces, so this repair is safe.
	arg = strings.ReplaceAll(arg, " ", "+")
	org, plain, err := h.decryptLinkingArg(r, arg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := parseLinkingContext(plain)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	said, perr := strconv.ParseInt(c.Visit, 10, 64)
	if perr != nil || said <= 0 {
		h.fail(w, r, store.Invalid("visit", "This value should be the appointment id (SAID), a positive integer."))
		return
	}
	a, err := h.store.Appointment(r.Context(), org.ID, said)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Appointment")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	token := a.ProviderToken
	if c.Type == "patient" {
		token = a.PatientToken
	}
	// Handing out a visit link is handing out a credential: audit it,
	// attributed to the EHR user named in the context.
	ctx := store.WithActor(r.Context(), store.Actor{OrgID: org.ID, Name: "linking:" + c.User, RemoteAddr: httpx.ClientIP(r)})
	h.store.AuditRead(ctx, org.ID, "visit-link", fmt.Sprintf("%d:%s", a.ID, c.Type), a.PatientID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.visitURL(token), http.StatusFound)
}

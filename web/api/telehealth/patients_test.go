package telehealth

import (
	"context"
	"testing"
)

func TestPatients(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.run([]scenario{
		{name: "create with the spec's body answers the SPID as a bare integer", method: "POST", path: "/qapi/v1/patients",
			body: specPatient, status: 201, want: map[string]any{"": "<int>"}, capture: map[string]string{"spid": ""},
			events: []string{"patient:created"}},
		{name: "duplicate id is a conflict", method: "POST", path: "/qapi/v1/patients", body: specPatient, status: 409, msg: "patientId"},
		{name: "missing id", method: "POST", path: "/qapi/v1/patients", body: `{"mrn": "X"}`, status: 400, msg: "Bad parameters [id: is required.]"},
		{name: "deceasedAt without deceased", method: "POST", path: "/qapi/v1/patients",
			body: `{"id": "p2", "deceasedAt": "2020-03-31 10:12 AM"}`, status: 400, msg: "deceasedAt"},
		{name: "deceasedAt with deceased false", method: "POST", path: "/qapi/v1/patients",
			body: `{"id": "p2", "deceased": false, "deceasedAt": "2020-03-31 10:12 AM"}`, status: 400, msg: "deceasedAt: must not be set"},
		{name: "deceased without deceasedAt", method: "POST", path: "/qapi/v1/patients",
			body: `{"id": "p2", "deceased": true}`, status: 400, msg: "deceasedAt: is required"},
		{name: "bad JSON", method: "POST", path: "/qapi/v1/patients", body: `{"id": "p2",`, status: 400, msg: "not valid JSON"},
		{name: "wrong type for id", method: "POST", path: "/qapi/v1/patients", body: `{"id": 12}`, status: 400, msg: "id must be a string"},
		{name: "wrong type for active", method: "POST", path: "/qapi/v1/patients", body: `{"id": "p2", "active": "yes"}`, status: 400, msg: "active"},
		{name: "bad gender", method: "POST", path: "/qapi/v1/patients", body: `{"id": "p2", "gender": "robot"}`, status: 400, msg: "gender"},
		{name: "linked by email needs a group", method: "POST", path: "/qapi/v1/patients", body: `{"id": "p2", "isLinkedByEmail": true}`, status: 400, msg: "sharedEmailGroup"},
		{name: "no key", method: "GET", path: "/qapi/v1/patients/patientId", key: "none", status: 401},
		{name: "wrong key", method: "GET", path: "/qapi/v1/patients/patientId", key: "cbk_0000000000000000_nope", status: 401},
		{name: "garbage key", method: "GET", path: "/qapi/v1/patients/patientId", key: "hello", status: 401},
		{name: "revoked key", method: "GET", path: "/qapi/v1/patients/patientId", key: "revoked", status: 401},
		{name: "other organisation's patient is not found", method: "GET", path: "/qapi/v1/patients/patientId", key: "B", status: 404},
		{name: "other organisation's SPID is not found", method: "GET", path: "/qapi/v1/patients/id/type/SPID/value/{{spid}}", key: "B", status: 404},
		{name: "get by the client's id: every field with its type", method: "GET", path: "/qapi/v1/patients/patientId", status: 200,
			want: map[string]any{
				"mrn": "MRN-123", "accountNumber": "A-123", "name.0.use": "usual", "name.0.family": "Mike Shinoda",
				"name.0.firstName": "Mike", "name.0.middleName": "", "name.0.lastName": "Shinoda", "name.0.alias": "",
				"birthDate": "1983-08-15", "gender": "male", "maritalStatus": "married",
				"telecom.0.use": "home", "telecom.0.system": "phone", "telecom.0.value": "+1 (111) 111-1111",
				"telecom.1.system": "email", "telecom.1.value": "mike_zzzzzzz@company.com",
				"contact.0.telecom.1.value": "someemail@email.email", "contact.0.name": length(0),
				"preferredLanguage": "English", "race": "White", "ethnicity": "not Hispanic or Latino",
				"address.0.city": "New York", "address.0.use": "home", "address.0.apartment": "", "address.0.country": "USA",
				"address.0.state": "NY", "address.0.postalcode": "10019", "address.0.line": []string{"123 Main St", ""},
				"active": true, "deceased": true, "deceasedAt": "2020-03-31 10:12 AM", "familyMember": false,
				"isLinkedByEmail": false, "sharedEmailGroup": nil, // not linked: the group is dropped
			},
			absent: []string{"groupType", "groupName"}},
		{name: "get by SPID has groupType and groupName", method: "GET", path: "/qapi/v1/patients/id/type/SPID/value/{{spid}}", status: 200,
			want:   map[string]any{"mrn": "MRN-123", "groupType": nil, "groupName": nil, "deceased": true},
			absent: []string{"sharedEmailGroup"}},
		{name: "SPID that is not a number", method: "GET", path: "/qapi/v1/patients/id/type/SPID/value/abc", status: 404},
		{name: "unknown patient", method: "GET", path: "/qapi/v1/patients/nobody", status: 404, msg: "Patient not found"},
		{name: "partial update changes only what is sent", method: "PUT", path: "/qapi/v1/patients/patientId",
			body: `{"mrn": "MRN-456"}`, status: 200, want: map[string]any{"": length(0)}, events: []string{"patient:updated"}},
		{name: "after the partial update", method: "GET", path: "/qapi/v1/patients/patientId", status: 200,
			want: map[string]any{"mrn": "MRN-456", "accountNumber": "A-123", "name.0.firstName": "Mike", "deceased": true,
				"deceasedAt": "2020-03-31 10:12 AM", "gender": "male"}},
		{name: "update: deceasedAt with deceased absent", method: "PUT", path: "/qapi/v1/patients/patientId",
			body: `{"deceasedAt": "2021-01-01 10:00 AM"}`, status: 400, msg: "deceasedAt"},
		{name: "update: deceased true without deceasedAt", method: "PUT", path: "/qapi/v1/patients/patientId",
			body: `{"deceased": true}`, status: 400, msg: "deceasedAt: is required"},
		{name: "update: wrong type", method: "PUT", path: "/qapi/v1/patients/patientId", body: `{"name": "Mike"}`, status: 400, msg: "name must be an array"},
		{name: "update other organisation's patient", method: "PUT", path: "/qapi/v1/patients/patientId", key: "B", body: `{"mrn": "x"}`, status: 404},
		{name: "update unknown patient", method: "PUT", path: "/qapi/v1/patients/nobody", body: `{"mrn": "x"}`, status: 404},
		{name: "update by SPID: not deceased, linked by email", method: "PUT", path: "/qapi/v1/patients/id/type/SPID/value/{{spid}}",
			body:   `{"deceased": false, "isLinkedByEmail": true, "groupType": "family", "groupName": "Shinodas", "familyMember": true}`,
			status: 200, events: []string{"patient:updated"}},
		{name: "after the SPID update", method: "GET", path: "/qapi/v1/patients/patientId", status: 200,
			want: map[string]any{"deceased": false, "deceasedAt": nil, "isLinkedByEmail": true, "familyMember": true,
				"sharedEmailGroup.type": "family", "sharedEmailGroup.name": "Shinodas", "mrn": "MRN-456"}},
		{name: "update with sharedEmailGroup object", method: "PUT", path: "/qapi/v1/patients/patientId",
			body: `{"sharedEmailGroup": {"type": "household", "name": "H1"}}`, status: 200},
		{name: "after the group update", method: "GET", path: "/qapi/v1/patients/id/type/SPID/value/{{spid}}", status: 200,
			want: map[string]any{"groupType": "household", "groupName": "H1"}},
		{name: "deactivate", method: "PUT", path: "/qapi/v1/patients/patientId", body: `{"active": false}`, status: 200,
			events: []string{"patient:deactivated"}},
		{name: "same client id in another organisation is fine", method: "POST", path: "/qapi/v1/patients", key: "B",
			body: `{"id": "patientId"}`, status: 201, want: map[string]any{"": "<int>"}},
	})

	// Every read is audited, attributed to the key.
	e.st.Close() // flushes queued audit reads
	st := reopen(t, e)
	entries, err := st.AuditLog(context.Background(), e.orgA.ID, storeAuditFilter())
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, a := range entries {
		if a.Action == "read" && a.Entity == "patient" {
			reads++
			if a.Actor != "apikey:integration A" {
				t.Errorf("audit actor = %q", a.Actor)
			}
		}
	}
	if reads < 4 {
		t.Errorf("audited patient reads = %d, want at least 4", reads)
	}
}

package store_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// The model's types are not shaped by any face: no exported type of the
// store carries a JSON tag. Faces map the model to their own wire types,
// and a JSON column has its own unexported storage struct, so that renaming
// an API field can never change what the database holds.
func TestExportedTypesCarryNoJSONTags(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if !ts.Name.IsExported() {
					continue
				}
				checked++
				// Every struct inside the type: fields of anonymous
				// structs and of slices, maps and pointers of them too.
				ast.Inspect(ts.Type, func(n ast.Node) bool {
					field, ok := n.(*ast.Field)
					if !ok || field.Tag == nil {
						return true
					}
					tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`"))
					if _, has := tag.Lookup("json"); has {
						t.Errorf("%s: exported type %s has a json tag %s: give the face a wire type, or the column an unexported storage struct",
							fset.Position(field.Pos()), ts.Name.Name, field.Tag.Value)
					}
					return true
				})
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d exported types: the test no longer reads the store's files", checked)
	}
}

// Rows written before the model lost its tags keep reading the same, and
// what the model writes now is byte for byte what it wrote then: the JSON
// columns' format is the database's, not any API's.
func TestJSONColumnsKeepTheirStoredFormat(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	ctx := context.Background()

	raw := func(query string, args ...any) string {
		t.Helper()
		var s string
		if err := st.Write(ctx, func(tx *store.Tx) error { return tx.QueryRow(query, args...).Scan(&s) }); err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if err := st.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(query, args...); return err }); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("patient lists", func(t *testing.T) {
		// As the model wrote them before this change (the telehealth
		// API's field names, postalcode in lower case, null for a list the
		// client left out of a contact).
		const (
			names    = `[{"use":"official","family":"Jensen","firstName":"Anna","middleName":"M","lastName":"Jensen","alias":"AJ"}]`
			telecom  = `[{"use":"home","system":"email","value":"anna@example.dk"},{"use":"mobile","system":"phone","value":"+45 12 34 56 78"}]`
			contacts = `[{"telecom":[{"use":"","system":"phone","value":"+45 87 65 43 21"}],"name":[{"use":"","family":"","firstName":"Bo","middleName":"","lastName":"Jensen","alias":""}]},{"telecom":null,"name":null}]`
			addrs    = `[{"use":"home","line":["Nørregade 1","2. tv"],"apartment":"2","city":"Aarhus","state":"","postalcode":"8000","country":"DK"}]`
		)
		exec(`UPDATE patients SET names_json = ?, telecom_json = ?, contacts_json = ?, address_json = ? WHERE id = ?`,
			names, telecom, contacts, addrs, f.patient.ID)
		p, err := st.Patient(ctx, f.org.ID, f.patient.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Patient{
			Names:   []store.HumanName{{Use: "official", Family: "Jensen", FirstName: "Anna", MiddleName: "M", LastName: "Jensen", Alias: "AJ"}},
			Telecom: []store.ContactPoint{{Use: "home", System: "email", Value: "anna@example.dk"}, {Use: "mobile", System: "phone", Value: "+45 12 34 56 78"}},
			Contacts: []store.Contact{
				{Telecom: []store.ContactPoint{{System: "phone", Value: "+45 87 65 43 21"}}, Name: []store.HumanName{{FirstName: "Bo", LastName: "Jensen"}}},
				{},
			},
			Addresses: []store.Address{{Use: "home", Line: []string{"Nørregade 1", "2. tv"}, Apartment: "2", City: "Aarhus", PostalCode: "8000", Country: "DK"}},
		}
		if !reflect.DeepEqual(p.Names, want.Names) || !reflect.DeepEqual(p.Telecom, want.Telecom) ||
			!reflect.DeepEqual(p.Contacts, want.Contacts) || !reflect.DeepEqual(p.Addresses, want.Addresses) {
			t.Fatalf("old row read as\n%+v %+v %+v %+v\nwant\n%+v %+v %+v %+v", p.Names, p.Telecom, p.Contacts, p.Addresses,
				want.Names, want.Telecom, want.Contacts, want.Addresses)
		}
		// Saved again through the model, the columns are unchanged.
		if _, err := st.UpdatePatient(ctx, f.org.ID, store.ByExternalID, f.patient.ExternalID, func(p *store.Patient) error {
			p.MRN = "MRN-2" // something else changes, so the row is written
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for col, want := range map[string]string{"names_json": names, "telecom_json": telecom, "contacts_json": contacts, "address_json": addrs} {
			if got := raw(`SELECT `+col+` FROM patients WHERE id = ?`, f.patient.ID); got != want {
				t.Errorf("%s rewritten as\n%s\nwant\n%s", col, got, want)
			}
		}
		// A patient without lists stores empty arrays, never null.
		q := &store.Patient{ExternalID: "bare", Active: true}
		if err := st.CreatePatient(ctx, f.org.ID, q); err != nil {
			t.Fatal(err)
		}
		if got := raw(`SELECT names_json || telecom_json || contacts_json || address_json FROM patients WHERE id = ?`, q.ID); got != "[][][][]" {
			t.Errorf("empty lists stored as %s", got)
		}
	})

	t.Run("document responses", func(t *testing.T) {
		d := &store.PatientDocument{PatientID: f.patient.ID, Name: "Intake", DateTime: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
			Responses: []store.DocumentResponse{{Question: "Allergies?", Response: "Penicillin"}}}
		if err := st.CreatePatientDocument(ctx, f.org.ID, d); err != nil {
			t.Fatal(err)
		}
		const stored = `[{"question":"Allergies?","response":"Penicillin"}]`
		if got := raw(`SELECT responses_json FROM patient_documents WHERE id = ?`, d.ID); got != stored {
			t.Errorf("responses stored as %s, want %s", got, stored)
		}
		exec(`UPDATE patient_documents SET responses_json = ? WHERE id = ?`, `[{"question":"Smoker?","response":"No"},{"question":"Pain","response":""}]`, d.ID)
		docs, err := st.PatientDocuments(ctx, f.org.ID, f.patient.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.DocumentResponse{{Question: "Smoker?", Response: "No"}, {Question: "Pain"}}
		if len(docs) != 1 || !reflect.DeepEqual(docs[0].Responses, want) {
			t.Fatalf("old responses read as %+v, want %+v", docs, want)
		}
	})

	t.Run("opening hours", func(t *testing.T) {
		const stored = `{"1":[{"open":"08:00","close":"12:00"},{"open":"13:00","close":"16:00"}],"6":[{"open":"09:30","close":"11:00"}]}`
		exec(`UPDATE waiting_rooms SET hours_json = ? WHERE id = ?`, stored, f.room.ID)
		rooms, err := st.WaitingRooms(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got store.OpeningHours
		for _, r := range rooms {
			if r.ID == f.room.ID {
				got = r.Hours
			}
		}
		want := store.OpeningHours{
			time.Monday:   {{Open: "08:00", Close: "12:00"}, {Open: "13:00", Close: "16:00"}},
			time.Saturday: {{Open: "09:30", Close: "11:00"}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("old hours read as %+v, want %+v", got, want)
		}
		room := *f.room
		room.Hours = want
		if err := st.UpdateWaitingRoom(ctx, f.org.ID, &room); err != nil {
			t.Fatal(err)
		}
		if got := raw(`SELECT hours_json FROM waiting_rooms WHERE id = ?`, f.room.ID); got != stored {
			t.Errorf("hours rewritten as %s, want %s", got, stored)
		}
	})
}

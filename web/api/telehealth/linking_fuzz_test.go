package telehealth

import (
	"slices"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// FuzzParseLinkingContext: whatever the input, the parser does not panic,
// and what it accepts satisfies the schema's enums and date format.
func FuzzParseLinkingContext(f *testing.F) {
	f.Add(`{"user":"u","type":"patient","visit":"1","date":1,"patient":{"id":"x","sex":"male","dob":"1990-01-02","firstName":"A","lastName":"B"}}`)
	f.Add(`{"visit":"12345","user":"1234"}`)
	f.Add(`{"patient":null,"date":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseLinkingContext([]byte(s))
		if err != nil {
			return
		}
		if !slices.Contains(linkingTypes, c.Type) || !slices.Contains(store.Genders, c.Patient.Sex) {
			t.Fatalf("accepted %q: type %q sex %q", s, c.Type, c.Patient.Sex)
		}
		if _, err := time.Parse("2006-01-02", c.Patient.DOB); err != nil {
			t.Fatalf("accepted %q with dob %q", s, c.Patient.DOB)
		}
	})
}

package telehealth

import "github.com/clinicbox/clinicbox/store"

// The parts of a patient as the telehealth spec names them. They are this
// API's wire format: the model's types carry no JSON tags, and the database
// stores its own format, so neither changes when the other does.

type nameJSON struct {
	Use        string `json:"use" bound:"code"`
	Family     string `json:"family" bound:"namePart"`
	FirstName  string `json:"firstName" bound:"namePart"`
	MiddleName string `json:"middleName" bound:"namePart"`
	LastName   string `json:"lastName" bound:"namePart"`
	Alias      string `json:"alias" bound:"namePart"`
}

type contactPointJSON struct {
	Use    string `json:"use" bound:"code"`
	System string `json:"system" enum:"telecomSystem"`
	Value  string `json:"value" bound:"shortText"`
}

type contactJSON struct {
	Telecom []contactPointJSON `json:"telecom"`
	Name    []nameJSON         `json:"name"`
}

type addressJSON struct {
	Use        string   `json:"use" bound:"namePart"`
	Line       []string `json:"line" bound:"shortText"`
	Apartment  string   `json:"apartment" bound:"namePart"`
	City       string   `json:"city" bound:"namePart"`
	State      string   `json:"state" bound:"namePart"`
	PostalCode string   `json:"postalcode" bound:"namePart"`
	Country    string   `json:"country" bound:"namePart"`
}

// Answers carry every list as an array, never null.

func toNames(ns []store.HumanName) []nameJSON {
	out := make([]nameJSON, len(ns))
	for i, n := range ns {
		out[i] = nameJSON(n)
	}
	return out
}

func toContactPoints(cs []store.ContactPoint) []contactPointJSON {
	out := make([]contactPointJSON, len(cs))
	for i, c := range cs {
		out[i] = contactPointJSON(c)
	}
	return out
}

func toContacts(cs []store.Contact) []contactJSON {
	out := make([]contactJSON, len(cs))
	for i, c := range cs {
		out[i] = contactJSON{Telecom: toContactPoints(c.Telecom), Name: toNames(c.Name)}
	}
	return out
}

func toAddresses(as []store.Address) []addressJSON {
	out := make([]addressJSON, len(as))
	for i, a := range as {
		out[i] = addressJSON(a)
		out[i].Line = nonNil(a.Line)
	}
	return out
}

// Requests are kept as sent: a list the client sent as null stays absent.

func fromNames(ns []nameJSON) []store.HumanName {
	if ns == nil {
		return nil
	}
	out := make([]store.HumanName, len(ns))
	for i, n := range ns {
		out[i] = store.HumanName(n)
	}
	return out
}

func fromContactPoints(cs []contactPointJSON) []store.ContactPoint {
	if cs == nil {
		return nil
	}
	out := make([]store.ContactPoint, len(cs))
	for i, c := range cs {
		out[i] = store.ContactPoint(c)
	}
	return out
}

func fromContacts(cs []contactJSON) []store.Contact {
	if cs == nil {
		return nil
	}
	out := make([]store.Contact, len(cs))
	for i, c := range cs {
		out[i] = store.Contact{Telecom: fromContactPoints(c.Telecom), Name: fromNames(c.Name)}
	}
	return out
}

func fromAddresses(as []addressJSON) []store.Address {
	if as == nil {
		return nil
	}
	out := make([]store.Address, len(as))
	for i, a := range as {
		out[i] = store.Address(a)
	}
	return out
}

package store

import (
	"encoding/json"
	"fmt"
)

// The patient's list columns (names_json, telecom_json, contacts_json,
// address_json) are JSON documents. The structs below are their format:
// their keys are the database's, written since the first migration, and
// change only with a migration. The model's types carry no tags, and each
// face maps them to its own wire types, so renaming an API field never
// changes what is stored.

type humanNameJSON struct {
	Use        string `json:"use"`
	Family     string `json:"family"`
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName"`
	LastName   string `json:"lastName"`
	Alias      string `json:"alias"`
}

type contactPointJSON struct {
	Use    string `json:"use"`
	System string `json:"system"`
	Value  string `json:"value"`
}

type contactJSON struct {
	Telecom []contactPointJSON `json:"telecom"`
	Name    []humanNameJSON    `json:"name"`
}

type addressJSON struct {
	Use        string   `json:"use"`
	Line       []string `json:"line"`
	Apartment  string   `json:"apartment"`
	City       string   `json:"city"`
	State      string   `json:"state"`
	PostalCode string   `json:"postalcode"`
	Country    string   `json:"country"`
}

func nameToJSON(n HumanName) humanNameJSON   { return humanNameJSON(n) }
func nameFromJSON(n humanNameJSON) HumanName { return HumanName(n) }

func contactPointToJSON(c ContactPoint) contactPointJSON   { return contactPointJSON(c) }
func contactPointFromJSON(c contactPointJSON) ContactPoint { return ContactPoint(c) }

func contactToJSON(c Contact) contactJSON {
	// Lists inside a contact are stored as the API first sent them: a nil
	// list is null, an empty one []. Both read back as an empty list.
	out := contactJSON{}
	if c.Telecom != nil {
		out.Telecom = mapList(c.Telecom, contactPointToJSON)
	}
	if c.Name != nil {
		out.Name = mapList(c.Name, nameToJSON)
	}
	return out
}

func contactFromJSON(c contactJSON) Contact {
	out := Contact{}
	if c.Telecom != nil {
		out.Telecom = mapList(c.Telecom, contactPointFromJSON)
	}
	if c.Name != nil {
		out.Name = mapList(c.Name, nameFromJSON)
	}
	return out
}

func addressToJSON(a Address) addressJSON   { return addressJSON(a) }
func addressFromJSON(a addressJSON) Address { return Address(a) }

// mapList maps every element; nil stays nil.
func mapList[T, S any](in []T, f func(T) S) []S {
	if in == nil {
		return nil
	}
	out := make([]S, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// encodeList is a list column's stored form: its storage structs as a JSON
// array ([] for none, never null).
func encodeList[T, S any](list []T, f func(T) S) string {
	if len(list) == 0 {
		return "[]"
	}
	b, err := json.Marshal(mapList(list, f))
	if err != nil {
		// Strings, numbers and lists of them always encode.
		panic(fmt.Sprintf("encode list column: %v", err))
	}
	return string(b)
}

// decodeListAs reads a list column through its storage struct. The empty
// list, what most rows hold in most of these columns, skips the decoder
// (and gives an empty, non-nil slice, as null does).
func decodeListAs[S, T any](src string, f func(S) T) ([]T, error) {
	if src == "[]" || src == "" || src == "null" {
		return []T{}, nil
	}
	var stored []S
	if err := json.Unmarshal([]byte(src), &stored); err != nil {
		return nil, err
	}
	if stored == nil {
		return []T{}, nil
	}
	return mapList(stored, f), nil
}

// patientLists are a patient's stored list columns.
type patientLists struct {
	names, telecom, contacts, addrs string
}

func encodePatientLists(p *Patient) patientLists {
	return patientLists{
		names:    encodeList(p.Names, nameToJSON),
		telecom:  encodeList(p.Telecom, contactPointToJSON),
		contacts: encodeList(p.Contacts, contactToJSON),
		addrs:    encodeList(p.Addresses, addressToJSON),
	}
}

// decode sets p's lists from their stored columns.
func (l patientLists) decode(p *Patient) error {
	var err error
	if p.Names, err = decodeListAs(l.names, nameFromJSON); err != nil {
		return fmt.Errorf("patient %d names: %w", p.ID, err)
	}
	if p.Telecom, err = decodeListAs(l.telecom, contactPointFromJSON); err != nil {
		return fmt.Errorf("patient %d telecom: %w", p.ID, err)
	}
	if p.Contacts, err = decodeListAs(l.contacts, contactFromJSON); err != nil {
		return fmt.Errorf("patient %d contacts: %w", p.ID, err)
	}
	if p.Addresses, err = decodeListAs(l.addrs, addressFromJSON); err != nil {
		return fmt.Errorf("patient %d addresses: %w", p.ID, err)
	}
	return nil
}

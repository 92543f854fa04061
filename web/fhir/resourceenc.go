package fhir

import (
	"fmt"
)

// Hand-written encoders of the resources a search embeds by the dozen:
// Observation (each patient's cached results) and Patient (the read's
// cached answer, _include). They write what encoding/json writes for the
// same struct (TestResourceEncodersAreEncodingJSON, the fuzz tests, and
// every resource the package's tests emit: encodeCheck), at a fraction of
// its reflection's cost. A field added to either struct must be added here.

// jsonAppender is a resource with a hand-written encoder.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, error)
}

// encodeCheck, when the tests set it, is shown every value a hand-written
// encoder wrote and what it wrote, to compare with encoding/json.
var encodeCheck func(v any, got []byte, err error)

// appendResource appends v's JSON.
func appendResource(b []byte, v jsonAppender) ([]byte, error) {
	start := len(b)
	b, err := v.appendJSON(b)
	if encodeCheck != nil {
		encodeCheck(v, b[start:], err)
	}
	return b, err
}

func (ob *Observation) appendJSON(b []byte) ([]byte, error) {
	o := openObject(b)
	o.str("resourceType", ob.ResourceType)
	o.optStr("id", ob.ID)
	if ob.Meta != nil {
		o.key("meta")
		o.b = appendMeta(o.b, ob.Meta)
	}
	if len(ob.Extension) > 0 {
		o.key("extension")
		o.b = appendExtensions(o.b, ob.Extension)
	}
	o.str("status", ob.Status)
	if len(ob.Category) > 0 {
		o.key("category")
		o.b = appendConcepts(o.b, ob.Category)
	}
	o.key("code")
	o.b = appendConcept(o.b, &ob.Code)
	if ob.Subject != nil {
		o.key("subject")
		o.b = appendReference(o.b, ob.Subject)
	}
	if ob.Encounter != nil {
		o.key("encounter")
		o.b = appendReference(o.b, ob.Encounter)
	}
	o.optStr("effectiveDateTime", ob.EffectiveDT)
	o.optStr("issued", ob.Issued)
	if len(ob.Performer) > 0 {
		o.key("performer")
		o.b = append(o.b, '[')
		for i := range ob.Performer {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendReference(o.b, &ob.Performer[i])
		}
		o.b = append(o.b, ']')
	}
	if q := ob.ValueQuantity; q != nil {
		o.key("valueQuantity")
		v := openObject(o.b)
		if q.Value != "" {
			if !isValidNumber(string(q.Value)) {
				// encoding/json's refusal, word for word.
				return o.b, fmt.Errorf("json: invalid number literal %q", string(q.Value))
			}
			v.key("value")
			v.b = append(v.b, q.Value...)
		}
		v.optStr("unit", q.Unit)
		v.optStr("system", q.System)
		v.optStr("code", q.Code)
		o.b = v.close()
	}
	if ob.ValueString != nil {
		o.str("valueString", *ob.ValueString)
	}
	if len(ob.Interpretation) > 0 {
		o.key("interpretation")
		o.b = appendConcepts(o.b, ob.Interpretation)
	}
	if ob.Device != nil {
		o.key("device")
		o.b = appendReference(o.b, ob.Device)
	}
	if len(ob.ReferenceRange) > 0 {
		o.key("referenceRange")
		o.b = append(o.b, '[')
		for i, r := range ob.ReferenceRange {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			ro := openObject(o.b)
			ro.optStr("text", r.Text)
			o.b = ro.close()
		}
		o.b = append(o.b, ']')
	}
	return o.close(), nil
}

func (p *Patient) appendJSON(b []byte) ([]byte, error) {
	o := openObject(b)
	o.str("resourceType", p.ResourceType)
	o.optStr("id", p.ID)
	if p.Meta != nil {
		o.key("meta")
		o.b = appendMeta(o.b, p.Meta)
	}
	if len(p.Identifier) > 0 {
		o.key("identifier")
		o.b = append(o.b, '[')
		for i := range p.Identifier {
			id := &p.Identifier[i]
			if i > 0 {
				o.b = append(o.b, ',')
			}
			io := openObject(o.b)
			io.optStr("use", id.Use)
			if id.Type != nil {
				io.key("type")
				io.b = appendConcept(io.b, id.Type)
			}
			io.optStr("system", id.System)
			io.optStr("value", id.Value)
			o.b = io.close()
		}
		o.b = append(o.b, ']')
	}
	if p.Active != nil {
		o.key("active")
		o.b = appendBool(o.b, *p.Active)
	}
	if len(p.Name) > 0 {
		o.key("name")
		o.b = append(o.b, '[')
		for i := range p.Name {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendHumanName(o.b, &p.Name[i])
		}
		o.b = append(o.b, ']')
	}
	if len(p.Telecom) > 0 {
		o.key("telecom")
		o.b = appendTelecom(o.b, p.Telecom)
	}
	o.optStr("gender", p.Gender)
	o.optStr("birthDate", p.BirthDate)
	if p.DeceasedBoolean != nil {
		o.key("deceasedBoolean")
		o.b = appendBool(o.b, *p.DeceasedBoolean)
	}
	o.optStr("deceasedDateTime", p.DeceasedDateTime)
	if len(p.Address) > 0 {
		o.key("address")
		o.b = append(o.b, '[')
		for i := range p.Address {
			a := &p.Address[i]
			if i > 0 {
				o.b = append(o.b, ',')
			}
			ao := openObject(o.b)
			ao.optStr("use", a.Use)
			if len(a.Line) > 0 {
				ao.key("line")
				ao.b = appendStrings(ao.b, a.Line)
			}
			ao.optStr("city", a.City)
			ao.optStr("state", a.State)
			ao.optStr("postalCode", a.PostalCode)
			ao.optStr("country", a.Country)
			o.b = ao.close()
		}
		o.b = append(o.b, ']')
	}
	if p.MaritalStatus != nil {
		o.key("maritalStatus")
		o.b = appendConcept(o.b, p.MaritalStatus)
	}
	if len(p.Contact) > 0 {
		o.key("contact")
		o.b = append(o.b, '[')
		for i := range p.Contact {
			c := &p.Contact[i]
			if i > 0 {
				o.b = append(o.b, ',')
			}
			co := openObject(o.b)
			if c.Name != nil {
				co.key("name")
				co.b = appendHumanName(co.b, c.Name)
			}
			if len(c.Telecom) > 0 {
				co.key("telecom")
				co.b = appendTelecom(co.b, c.Telecom)
			}
			o.b = co.close()
		}
		o.b = append(o.b, ']')
	}
	if len(p.Communication) > 0 {
		o.key("communication")
		o.b = append(o.b, '[')
		for i := range p.Communication {
			l := &p.Communication[i]
			if i > 0 {
				o.b = append(o.b, ',')
			}
			lo := openObject(o.b)
			lo.key("language")
			lo.b = appendConcept(lo.b, &l.Language)
			if l.Preferred {
				lo.key("preferred")
				lo.b = append(lo.b, "true"...)
			}
			o.b = lo.close()
		}
		o.b = append(o.b, ']')
	}
	if p.ManagingOrg != nil {
		o.key("managingOrganization")
		o.b = appendReference(o.b, p.ManagingOrg)
	}
	if len(p.Extension) > 0 {
		o.key("extension")
		o.b = appendExtensions(o.b, p.Extension)
	}
	return o.close(), nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

func appendMeta(b []byte, m *Meta) []byte {
	o := openObject(b)
	o.optStr("versionId", m.VersionID)
	o.optStr("lastUpdated", m.LastUpdated)
	return o.close()
}

func appendExtensions(b []byte, es []Extension) []byte {
	b = append(b, '[')
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		o := openObject(b)
		o.str("url", e.URL)
		o.optStr("valueString", e.ValueString)
		b = o.close()
	}
	return append(b, ']')
}

func appendConcepts(b []byte, cs []CodeableConcept) []byte {
	b = append(b, '[')
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendConcept(b, &cs[i])
	}
	return append(b, ']')
}

func appendConcept(b []byte, c *CodeableConcept) []byte {
	o := openObject(b)
	if len(c.Coding) > 0 {
		o.key("coding")
		o.b = append(o.b, '[')
		for i, cd := range c.Coding {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			co := openObject(o.b)
			co.optStr("system", cd.System)
			co.optStr("code", cd.Code)
			co.optStr("display", cd.Display)
			o.b = co.close()
		}
		o.b = append(o.b, ']')
	}
	o.optStr("text", c.Text)
	return o.close()
}

func appendReference(b []byte, r *Reference) []byte {
	o := openObject(b)
	o.optStr("reference", r.Reference)
	o.optStr("display", r.Display)
	return o.close()
}

func appendHumanName(b []byte, n *HumanName) []byte {
	o := openObject(b)
	o.optStr("use", n.Use)
	o.optStr("text", n.Text)
	o.optStr("family", n.Family)
	if len(n.Given) > 0 {
		o.key("given")
		o.b = appendStrings(o.b, n.Given)
	}
	return o.close()
}

func appendTelecom(b []byte, ts []ContactPoint) []byte {
	b = append(b, '[')
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		o := openObject(b)
		o.optStr("system", t.System)
		o.optStr("value", t.Value)
		o.optStr("use", t.Use)
		b = o.close()
	}
	return append(b, ']')
}

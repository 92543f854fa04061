package fhir

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// notSupported lists, per resource type, standard R4 search parameters
// this server does not support, so that the conformance table says so.
var notSupported = map[string][]string{
	"*":             {"_lastUpdated", "_text", "_content", "_has", "_revinclude", "_summary", "_elements", "_total", "_list"},
	"Patient":       {"family", "given", "phone", "email", "address", "deceased", "general-practitioner", "link", "organization"},
	"Observation":   {"value-quantity", "value-string", "encounter", "performer", "based-on", "combo-code", "component-code"},
	"Appointment":   {"practitioner", "location", "service-type", "reason-code", "slot"},
	"Encounter":     {"class", "participant", "location", "appointment", "reason-code", "identifier"},
	"Practitioner":  {"identifier", "telecom", "active"},
	"Organization":  {"identifier", "partof"},
	"Location":      {"address", "near", "partof", "type"},
	"Device":        {"type", "manufacturer", "model", "patient", "udi-di"},
	"EpisodeOfCare": {"date", "type", "care-manager", "identifier"},
}

// ConformanceTable is the README's search conformance table (Markdown): per
// resource type and parameter, supported or not. It is generated from the
// route table and Params; a test keeps the README's copy equal to it.
func (h *Handler) ConformanceTable() string {
	var b strings.Builder
	b.WriteString("| Resource | Interactions | Parameter | Type | Supported | Notes |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	cs := h.Capabilities()
	res := cs.Rest[0].Resource
	sort.Slice(res, func(i, j int) bool { return res[i].Type < res[j].Type })
	for _, r := range res {
		var inter []string
		for _, i := range r.Interaction {
			inter = append(inter, i.Code)
		}
		first := true
		row := func(name, typ, supported, notes string) {
			t, in := "", ""
			if first {
				t, in = r.Type, strings.Join(inter, ", ")
				first = false
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s | %s |\n", t, in, name, typ, supported, notes)
		}
		for _, p := range r.SearchParam {
			row(p.Name, p.Type, "yes", p.Documentation)
		}
		for _, inc := range r.SearchInclude {
			row("_include="+inc, "special", "yes", "adds the patients of the page's observations")
		}
		if len(r.SearchInclude) == 0 {
			row("_include", "special", "no", "")
		}
		if !slices.ContainsFunc(r.SearchParam, func(p CapSearchParam) bool { return p.Name == "_sort" }) {
			row("_sort", "special", "no", "")
		}
		for _, n := range append(slices.Clone(notSupported[r.Type]), notSupported["*"]...) {
			row(n, "", "no", "")
		}
	}
	return b.String()
}

package fhir

import (
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/clinicbox/clinicbox/web/httpx"
)

// CapabilityStatement says what this server supports. It is generated from
// the route table and Params, so it tells the truth.
type CapabilityStatement struct {
	ResourceType   string       `json:"resourceType"`
	Status         string       `json:"status"`
	Date           string       `json:"date"`
	Publisher      string       `json:"publisher"`
	Kind           string       `json:"kind"`
	Software       *CapSoftware `json:"software,omitempty"`
	Implementation *CapImpl     `json:"implementation,omitempty"`
	FHIRVersion    string       `json:"fhirVersion"`
	Format         []string     `json:"format"`
	Rest           []CapRest    `json:"rest"`
}

// CapSoftware names the server software.
type CapSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// CapImpl is this installation.
type CapImpl struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

// CapRest is the server's REST capabilities.
type CapRest struct {
	Mode     string        `json:"mode"`
	Security *CapSecurity  `json:"security,omitempty"`
	Resource []CapResource `json:"resource"`
}

// CapSecurity describes the OAuth2 protection (SMART).
type CapSecurity struct {
	Extension   []CapOAuthExtension `json:"extension,omitempty"`
	Service     []CodeableConcept   `json:"service,omitempty"`
	Description string              `json:"description,omitempty"`
}

// CapOAuthExtension is the SMART oauth-uris extension.
type CapOAuthExtension struct {
	URL       string         `json:"url"`
	Extension []CapOAuthURIs `json:"extension"`
}

// CapOAuthURIs is one URI of the oauth-uris extension.
type CapOAuthURIs struct {
	URL      string `json:"url"`
	ValueURI string `json:"valueUri"`
}

// CapResource is what is supported on one resource type.
type CapResource struct {
	Type          string           `json:"type"`
	Interaction   []CapInteraction `json:"interaction"`
	Versioning    string           `json:"versioning,omitempty"`
	ReadHistory   *bool            `json:"readHistory,omitempty"`
	UpdateCreate  *bool            `json:"updateCreate,omitempty"`
	SearchInclude []string         `json:"searchInclude,omitempty"`
	SearchParam   []CapSearchParam `json:"searchParam,omitempty"`
}

// CapInteraction is one supported interaction.
type CapInteraction struct {
	Code string `json:"code"`
}

// CapSearchParam is one supported search parameter.
type CapSearchParam struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// Capabilities builds the CapabilityStatement from the route table.
func (h *Handler) Capabilities() *CapabilityStatement {
	byType := map[string]*CapResource{}
	var types []string
	no := false
	for _, rt := range h.Table() {
		if rt.Type == "" {
			continue
		}
		res, ok := byType[rt.Type]
		if !ok {
			res = &CapResource{Type: rt.Type, Versioning: "no-version", ReadHistory: &no}
			byType[rt.Type] = res
			types = append(types, rt.Type)
		}
		if !slices.ContainsFunc(res.Interaction, func(i CapInteraction) bool { return i.Code == rt.Interaction }) {
			res.Interaction = append(res.Interaction, CapInteraction{Code: rt.Interaction})
		}
		if rt.Interaction == "update" {
			res.UpdateCreate = &no
		}
	}
	sort.Strings(types)
	now := time.Now() // a handler built without a store (its tests) has no other clock
	if h.store != nil {
		now = h.store.Now()
	}
	c := &CapabilityStatement{ResourceType: "CapabilityStatement", Status: "active", Date: now.UTC().Format(time.RFC3339),
		Publisher: "Clinicbox", Kind: "instance", FHIRVersion: "4.0.1", Format: []string{"application/fhir+json", "json"},
		Software:       &CapSoftware{Name: "Clinicbox", Version: h.version},
		Implementation: &CapImpl{Description: "Clinicbox clinic appliance FHIR R4 endpoint", URL: h.publicURL + Base}}
	rest := CapRest{Mode: "server", Security: &CapSecurity{
		Service: []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "SMART-on-FHIR"}}}},
		Description: "OAuth2 client credentials (SMART backend services style) with client_secret_basic or client_secret_post; " +
			"system/<Type>.read|write scopes; tokens are scoped to one organisation",
		Extension: []CapOAuthExtension{{URL: "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			Extension: []CapOAuthURIs{{URL: "token", ValueURI: h.publicURL + Base + "/auth/token"}}}},
	}}
	for _, t := range types {
		res := byType[t]
		ps := Params[t]
		for _, p := range append(slices.Clone(commonParams), ps.Params...) {
			res.SearchParam = append(res.SearchParam, CapSearchParam{Name: p.Name, Type: p.Type, Documentation: p.Doc})
		}
		if ps.SortDate {
			res.SearchParam = append(res.SearchParam, CapSearchParam{Name: "_sort", Type: "special", Documentation: "date or -date"})
		}
		res.SearchInclude = ps.Include
		rest.Resource = append(rest.Resource, *res)
	}
	c.Rest = []CapRest{rest}
	return c
}

func (h *Handler) capabilities(w http.ResponseWriter, r *http.Request) {
	writeResource(w, http.StatusOK, h.Capabilities())
}

// smartConfiguration is the SMART App Launch discovery document, with what
// a backend service needs.
func (h *Handler) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]any{
		"issuer":                                h.publicURL + Base,
		"token_endpoint":                        h.publicURL + Base + "/auth/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"grant_types_supported":                 []string{"client_credentials"},
		"scopes_supported":                      h.scopesSupported(),
		"capabilities":                          []string{"client-confidential-symmetric", "permission-v1"},
	})
}

func (h *Handler) scopesSupported() []string {
	seen := map[string]bool{}
	out := []string{"system/*.read", "system/*.write", "system/*.*"}
	for _, rt := range h.Table() {
		if rt.Scope != "" && !seen[rt.Scope] {
			seen[rt.Scope] = true
			out = append(out, rt.Scope)
		}
	}
	return append(out, "kv.read", "kv.write", "reports.read", "events.read")
}

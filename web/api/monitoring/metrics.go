package monitoring

import (
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// wireMetric is a metric definition as this API shows it.
type wireMetric struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Unit       string   `json:"unit"`
	UnitNames  []string `json:"unitAliases"`
	CodeSystem string   `json:"codeSystem"`
	Code       string   `json:"code"`
	Min        *float64 `json:"min"`
	Max        *float64 `json:"max"`
	BuiltIn    bool     `json:"builtIn"`
}

func toWireMetric(m *store.MetricDefinition) wireMetric {
	names := m.UnitNames
	if names == nil {
		names = []string{}
	}
	return wireMetric{ID: prefixMetric + m.Key, Name: m.Name, Unit: m.Unit, UnitNames: names,
		CodeSystem: codeSystemURI(m.CodeSystem), Code: m.Code, Min: m.Min, Max: m.Max, BuiltIn: m.Builtin}
}

// listMetrics: GET /api/metric-definitions.
func (h *Handler) listMetrics(w http.ResponseWriter, r *http.Request) {
	ms, err := h.store.MetricDefinitions(r.Context(), orgID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wireMetric]{Data: make([]wireMetric, len(ms))}
	for i := range ms {
		out.Data[i] = toWireMetric(&ms[i])
	}
	httpx.JSON(w, http.StatusOK, out)
}

type metricInput struct {
	Key        string   `json:"key" bound:"metricKey"`
	Name       string   `json:"name" bound:"label"`
	Unit       string   `json:"unit" bound:"code"`
	UnitNames  []string `json:"unitAliases" bound:"code"`
	CodeSystem string   `json:"codeSystem"`
	Code       string   `json:"code" bound:"shortID"`
	Min        *float64 `json:"min"`
	Max        *float64 `json:"max"`
}

// createMetric: POST /api/metric-definitions.
func (h *Handler) createMetric(w http.ResponseWriter, r *http.Request) {
	var in metricInput
	if err := httpx.DecodeJSON(w, r, &in, 16<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	cs := in.CodeSystem
	if cs == "http://loinc.org" {
		cs = "LOINC"
	}
	m := &store.MetricDefinition{Key: in.Key, Name: in.Name, Unit: in.Unit, UnitNames: in.UnitNames, CodeSystem: cs,
		Code: in.Code, Min: in.Min, Max: in.Max}
	if err := h.store.CreateMetricDefinition(r.Context(), orgID(r), m); err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, toWireMetric(m))
}

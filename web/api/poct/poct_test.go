package poct_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestAuthAndTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		auth   string
		status int
		code   string
	}{
		{"no header", "", 401, "unauthorized"},
		{"wrong scheme", "Basic " + e.tokenA, 401, "unauthorized"},
		{"unknown token", "Bearer cbp_0000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 401, "unauthorized"},
		{"truncated token", "Bearer " + e.tokenA[:30], 401, "unauthorized"},
		{"good token", "Bearer " + e.tokenA, 200, ""},
		{"scheme is case-insensitive", "bearer " + e.tokenA, 200, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/poct/v1/devices", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		if c.code != "" && field(body, "error.code") != c.code {
			t.Errorf("%s: error %v, want code %s", c.name, body, c.code)
		}
	}
	// A revoked token stops working at once.
	toks, _ := e.st.PoctTokens(e.ctx, e.orgA.ID)
	if err := e.st.RevokePoctToken(e.ctx, e.orgA.ID, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/poct/v1/devices", e.tokenA, nil); r.status != 401 {
		t.Errorf("revoked token: status %d", r.status)
	}
	// Plain HTTP is refused when the appliance serves HTTPS.
	rec := httpRecorderGet(t, e, "/api/poct/v1/devices", e.tokenB)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "https_required") {
		t.Errorf("plain http: %d %s", rec.Code, rec.Body)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/poct/v1/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	doc := r.json(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, want := range []string{"/api/poct/v1/results", "/api/poct/v1/results/{result_id}/corrections", "/api/poct/v1/devices",
		"/api/poct/v1/qc/runs", "/api/poct/v1/encounters", "/api/poct/v1/orders", "/api/poct/v1/webhooks"} {
		if paths[want] == nil {
			t.Errorf("path %s missing", want)
		}
	}
	res := paths["/api/poct/v1/results/{result_id}"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["200"].(map[string]any)
	schema := res["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	for _, f := range []string{"value", "unit", "reference_range", "flags", "status", "device_ref", "encounter_ref", "specimen_id"} {
		if schema["properties"].(map[string]any)[f] == nil {
			t.Errorf("result schema lacks %s", f)
		}
	}
}

// TestResultsVerbatimAndScoped: a result an analyser sent comes out of the
// API byte for byte, with its device, patient, encounter and raw message;
// the other clinic's token never sees it.
func TestResultsVerbatimAndScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	walkIn, err := e.st.CreateWalkIn(e.ctx, e.orgA.ID, e.patA.ID, "Lab")
	if err != nil {
		t.Fatal(err)
	}
	e.ingest(e.orgA.ID, e.devA, "astm", astmResults("MRN-A1", "S-100"))
	e.ingest(e.orgB.ID, e.devB, "astm", astmResults("MRN-B1", "S-900"))

	r := e.do("GET", "/api/poct/v1/results", e.tokenA, nil)
	if r.status != 200 {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	body := r.json(t)
	data := body["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("%d results, want 2: %s", len(data), r.body)
	}
	want := []map[string]any{
		{"analyte": "HBA1C", "value": "<0,5", "unit": "mmol/mol", "reference_range": "20-42", "flags": "L", "status": "F"},
		{"analyte": "WBC", "value": "7,41", "unit": "10*3/uL", "reference_range": "3.5-10.0", "flags": "N", "status": "F"},
	}
	for i, w := range want {
		got := data[i].(map[string]any)
		for k, v := range w {
			if got[k] != v {
				t.Errorf("result %d %s = %q, want %q", i, k, got[k], v)
			}
		}
		for k, v := range map[string]any{"device_ref": e.devA.UUID, "patient_ref": e.patA.UUID, "encounter_ref": walkIn.UUID,
			"specimen_id": "S-100", "operator": "op7", "version": float64(1), "current": true, "device_name": "Afinion",
			"measured_at": "2026-12-02T07:54:00Z", "measured_at_as_sent": "20261202075400"} {
			if got[k] != v {
				t.Errorf("result %d %s = %v, want %v", i, k, got[k], v)
			}
		}
		if ps := got["patient_as_sent"].(map[string]any); ps["id"] != "MRN-A1" || ps["name"] != "Jensen^Anna" || ps["birth_date"] != "19800101" {
			t.Errorf("patient_as_sent %v", ps)
		}
	}
	// The raw message reference gives the bytes as received.
	ref := data[0].(map[string]any)["message_ref"].(string)
	raw := e.do("GET", ref, e.tokenA, nil)
	if raw.status != 200 || string(raw.body) != astmResults("MRN-A1", "S-100") {
		t.Errorf("raw message %s: %d %q", ref, raw.status, raw.body)
	}
	// Clinic B sees only its own result set, and none of A's ids.
	id := data[0].(map[string]any)["id"].(string)
	for _, p := range []string{"/api/poct/v1/results/" + id, "/api/poct/v1/results/" + id + "/versions", ref,
		"/api/poct/v1/encounters/" + walkIn.UUID, "/api/poct/v1/patients/" + e.patA.UUID, "/api/poct/v1/devices/" + e.devA.UUID} {
		if r := e.do("GET", p, e.tokenB, nil); r.status != 404 {
			t.Errorf("B reading %s: status %d %s", p, r.status, r.body)
		}
	}
	if r := e.do("POST", "/api/poct/v1/results/"+id+"/corrections", e.tokenB, map[string]any{"value": "1"}); r.status != 404 {
		t.Errorf("B correcting A's result: %d", r.status)
	}
	bres := e.do("GET", "/api/poct/v1/results?device="+e.devA.UUID, e.tokenB, nil)
	if bres.status != 422 {
		t.Errorf("B filtering by A's device: %d %s", bres.status, bres.body)
	}
	bAll := e.do("GET", "/api/poct/v1/results", e.tokenB, nil).json(t)["data"].([]any)
	if len(bAll) != 2 || bAll[0].(map[string]any)["specimen_id"] != "S-900" {
		t.Errorf("B's results: %v", bAll)
	}
}

func TestResultFiltersAndCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.ingest(e.orgA.ID, e.devA, "astm", astmResults("MRN-A1", "S-"+string(rune('1'+i))))
	}
	cases := []struct {
		query string
		n     int
	}{
		{"", 6},
		{"?analyte=WBC", 3},
		{"?patient=" + e.patA.UUID, 6},
		{"?device=" + e.devA.UUID + "&analyte=HBA1C", 3},
		{"?from=2026-12-02T07:54:00Z&to=2026-12-02T07:55:00Z", 6},
		{"?from=2026-12-02T07:55:00Z", 0},
	}
	for _, c := range cases {
		r := e.do("GET", "/api/poct/v1/results"+c.query, e.tokenA, nil)
		if r.status != 200 {
			t.Errorf("%s: %d %s", c.query, r.status, r.body)
			continue
		}
		if n := len(r.json(t)["data"].([]any)); n != c.n {
			t.Errorf("%s: %d results, want %d", c.query, n, c.n)
		}
	}
	// Paging by two visits every result once, in order.
	var seen []string
	path := "/api/poct/v1/results?limit=2"
	for i := 0; i < 10; i++ {
		b := e.do("GET", path, e.tokenA, nil).json(t)
		for _, d := range b["data"].([]any) {
			seen = append(seen, d.(map[string]any)["id"].(string))
		}
		next := b["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/api/poct/v1/results?limit=2&cursor=" + next
	}
	if len(seen) != 6 {
		t.Errorf("paged through %d results, want 6", len(seen))
	}
	for _, bad := range []string{"?limit=0", "?limit=x", "?cursor=nonsense", "?from=yesterday", "?patient=nobody"} {
		r := e.do("GET", "/api/poct/v1/results"+bad, e.tokenA, nil)
		if r.status != 400 && r.status != 422 {
			t.Errorf("%s: status %d", bad, r.status)
		}
		if code := field(r.json(t), "error.code"); code != "invalid" {
			t.Errorf("%s: error code %v", bad, code)
		}
	}
}

// TestCorrections: a correction is a new version; the first stays.
func TestCorrections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ingest(e.orgA.ID, e.devA, "astm", astmResults("MRN-A1", "S-100"))
	first := e.do("GET", "/api/poct/v1/results?analyte=WBC", e.tokenA, nil).json(t)["data"].([]any)[0].(map[string]any)
	id := first["id"].(string)

	bad := e.do("POST", "/api/poct/v1/results/"+id+"/corrections", e.tokenA, map[string]any{"unit": "x"})
	if bad.status != 422 || field(bad.json(t), "error.fields.value") == nil {
		t.Fatalf("correction without a value: %d %s", bad.status, bad.body)
	}
	r := e.do("POST", "/api/poct/v1/results/"+id+"/corrections", e.tokenA, map[string]any{"value": "7,14", "note": "transcription"})
	if r.status != 201 {
		t.Fatalf("correction: %d %s", r.status, r.body)
	}
	c := r.json(t)
	for k, v := range map[string]any{"value": "7,14", "unit": "10*3/uL", "status": "C", "version": float64(2), "previous_ref": id,
		"current": true, "specimen_id": "S-100"} {
		if c[k] != v {
			t.Errorf("correction %s = %v, want %v", k, c[k], v)
		}
	}
	old := e.do("GET", "/api/poct/v1/results/"+id, e.tokenA, nil).json(t)
	if old["value"] != "7,41" || old["current"] != false {
		t.Errorf("first version was changed: %v", old)
	}
	vs := e.do("GET", "/api/poct/v1/results/"+c["id"].(string)+"/versions", e.tokenA, nil).json(t)["data"].([]any)
	if len(vs) != 2 || field(vs, "0.value") != "7,41" || field(vs, "1.value") != "7,14" {
		t.Errorf("versions: %v", vs)
	}
	if n := len(e.do("GET", "/api/poct/v1/results?analyte=WBC", e.tokenA, nil).json(t)["data"].([]any)); n != 1 {
		t.Errorf("current WBC results: %d, want 1", n)
	}
	if n := len(e.do("GET", "/api/poct/v1/results?analyte=WBC&all_versions=true", e.tokenA, nil).json(t)["data"].([]any)); n != 2 {
		t.Errorf("all WBC versions: %d, want 2", n)
	}
	again := e.do("POST", "/api/poct/v1/results/"+id+"/corrections", e.tokenA, map[string]any{"value": "1"})
	if again.status != 409 {
		t.Errorf("correcting a superseded version: %d", again.status)
	}
	// A device that sends a correction (status C) of the same sample makes
	// a new version too.
	corr := strings.Replace(astmResults("MRN-A1", "S-100"), "|7,41|10*3/uL|3.5-10.0|N||F|", "|7,40|10*3/uL|3.5-10.0|N||C|", 1)
	corr = strings.Replace(corr, "R|1|^^^HBA1C|<0,5|mmol/mol|20-42|L||F||op7||20261202075400\r", "", 1)
	e.ingest(e.orgA.ID, e.devA, "astm", corr)
	cur := e.do("GET", "/api/poct/v1/results?analyte=WBC", e.tokenA, nil).json(t)["data"].([]any)
	if len(cur) != 1 || field(cur, "0.value") != "7,40" || field(cur, "0.version") != float64(3) {
		t.Errorf("after the device's correction: %v", cur)
	}
}

func TestEncountersOrdersDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A walk-in at a station.
	r := e.do("POST", "/api/poct/v1/encounters", e.tokenA, map[string]any{"patient_ref": e.patA.UUID, "station": "Lab"})
	if r.status != 201 {
		t.Fatalf("walk-in: %d %s", r.status, r.body)
	}
	enc := r.json(t)
	for k, v := range map[string]any{"patient_ref": e.patA.UUID, "kind": "walk-in", "station": "Lab", "status": store.StatusArrived} {
		if enc[k] != v {
			t.Errorf("encounter %s = %v, want %v", k, enc[k], v)
		}
	}
	for _, bad := range []map[string]any{{"station": "Lab"}, {"patient_ref": e.patB.UUID, "station": "Lab"}, {"patient_ref": e.patA.UUID}} {
		if r := e.do("POST", "/api/poct/v1/encounters", e.tokenA, bad); r.status != 422 {
			t.Errorf("walk-in %v: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.do("POST", "/api/poct/v1/encounters", e.tokenA, "{not json"); r.status != 400 || field(r.json(t), "error.code") != "invalid_body" {
		t.Errorf("bad JSON: %d %s", r.status, r.body)
	}
	// An order for it; its state follows the results.
	o := e.do("POST", "/api/poct/v1/orders", e.tokenA, map[string]any{"encounter_ref": enc["id"], "sample_id": "S-100",
		"tests": []string{"HBA1C", "WBC", "CRP"}})
	if o.status != 201 {
		t.Fatalf("order: %d %s", o.status, o.body)
	}
	order := o.json(t)
	if order["state"] != "ordered" || order["patient_ref"] != e.patA.UUID || order["source"] != "api" {
		t.Errorf("order %v", order)
	}
	e.ingest(e.orgA.ID, e.devA, "astm", astmResults("", "S-100")) // matched by the sample id
	got := e.do("GET", "/api/poct/v1/orders/"+order["id"].(string), e.tokenA, nil).json(t)
	if got["state"] != "partial" {
		t.Errorf("after two of three tests: state %v", got["state"])
	}
	res := e.do("GET", "/api/poct/v1/results?encounter="+enc["id"].(string), e.tokenA, nil).json(t)["data"].([]any)
	if len(res) != 2 || field(res, "0.patient_ref") != e.patA.UUID {
		t.Errorf("encounter results: %v", res)
	}
	if r := e.do("GET", "/api/poct/v1/orders?state=partial", e.tokenA, nil); len(r.json(t)["data"].([]any)) != 1 {
		t.Errorf("orders by state: %s", r.body)
	}
	if r := e.do("GET", "/api/poct/v1/orders", e.tokenB, nil); len(r.json(t)["data"].([]any)) != 0 {
		t.Errorf("B sees A's orders: %s", r.body)
	}
	// A document on the encounter.
	pdf := []byte("%PDF-1.4\n% spirometry report\n")
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/poct/v1/encounters/"+enc["id"].(string)+"/documents?filename=spiro.pdf&title=Spirometry", strings.NewReader(string(pdf)))
	req.Header.Set("Authorization", "Bearer "+e.tokenA)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 201 || doc["content_type"] != "application/pdf" || doc["size"] != float64(len(pdf)) {
		t.Fatalf("document: %d %v", resp.StatusCode, doc)
	}
	dl := e.do("GET", "/api/poct/v1/documents/"+doc["id"].(string), e.tokenA, nil)
	if dl.status != 200 || string(dl.body) != string(pdf) {
		t.Errorf("download: %d %q", dl.status, dl.body)
	}
	if r := e.do("GET", "/api/poct/v1/documents/"+doc["id"].(string), e.tokenB, nil); r.status != 404 {
		t.Errorf("B downloads A's document: %d", r.status)
	}
	list := e.do("GET", "/api/poct/v1/encounters/"+enc["id"].(string)+"/documents", e.tokenA, nil).json(t)["data"].([]any)
	if len(list) != 1 || field(list, "0.filename") != "spiro.pdf" {
		t.Errorf("documents: %v", list)
	}
	// Completing the encounter.
	done := e.do("POST", "/api/poct/v1/encounters/"+enc["id"].(string)+"/complete", e.tokenA, nil).json(t)
	if done["status"] != store.StatusCompleted || done["completed_at"] == "" {
		t.Errorf("completed: %v", done)
	}
	if n := len(e.do("GET", "/api/poct/v1/encounters?open=true", e.tokenA, nil).json(t)["data"].([]any)); n != 0 {
		t.Errorf("open encounters after completing: %d", n)
	}
}

func TestDevicesAndQC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.SetDeviceState(e.ctx, e.orgA.ID, e.devA.ID, store.DeviceConnected, "/dev/ttyUSB0", ""); err != nil {
		t.Fatal(err)
	}
	e.ingest(e.orgA.ID, e.devA, "astm", astmResults("MRN-A1", "S-1"))
	d := e.do("GET", "/api/poct/v1/devices/"+e.devA.UUID, e.tokenA, nil).json(t)
	for k, v := range map[string]any{"state": "connected", "port": "/dev/ttyUSB0", "messages_received": float64(1), "firmware": "4.11",
		"serial_number": "SN-7731", "qc_state": "none", "last_message_at": "2026-12-02T08:00:00Z", "station": "Lab"} {
		if d[k] != v {
			t.Errorf("device %s = %v, want %v", k, d[k], v)
		}
	}
	// A target, then control values: the third is beyond +3 SD.
	tg := e.do("PUT", "/api/poct/v1/qc/targets", e.tokenA, map[string]any{"device_ref": e.devA.UUID, "analyte": "GLU", "lot": "L123",
		"level": "1", "mean": 5.0, "sd": 0.2, "unit": "mmol/L"})
	if tg.status != 200 {
		t.Fatalf("target: %d %s", tg.status, tg.body)
	}
	if r := e.do("PUT", "/api/poct/v1/qc/targets", e.tokenA, map[string]any{"device_ref": e.devA.UUID, "analyte": "GLU", "lot": "L123", "mean": 5.0, "sd": 0}); r.status != 422 {
		t.Errorf("sd 0: %d", r.status)
	}
	var statuses []string
	for _, v := range []string{"5.1", "<4.0", "5,3", "5.7"} {
		r := e.do("POST", "/api/poct/v1/qc/runs", e.tokenA, map[string]any{"device_ref": e.devA.UUID, "analyte": "GLU", "lot": "L123",
			"level": "1", "value": v, "unit": "mmol/L"})
		if r.status != 201 {
			t.Fatalf("qc run: %d %s", r.status, r.body)
		}
		run := r.json(t)
		if run["value"] != v {
			t.Errorf("qc value %v, want %q verbatim", run["value"], v)
		}
		statuses = append(statuses, run["status"].(string))
	}
	// "<4.0" is not a number: kept as sent, not evaluated; "5,3" is read
	// with its decimal comma.
	if strings.Join(statuses, " ") != "accepted not-evaluated accepted rejected" {
		t.Errorf("qc statuses %v", statuses)
	}
	runs := e.do("GET", "/api/poct/v1/qc/runs?status=rejected", e.tokenA, nil).json(t)["data"].([]any)
	if len(runs) != 1 || field(runs, "0.rules.0") != "1-2s" || field(runs, "0.rules.1") != "1-3s" {
		t.Errorf("rejected runs %v", runs)
	}
	if d := e.do("GET", "/api/poct/v1/devices/"+e.devA.UUID, e.tokenA, nil).json(t); d["qc_state"] != "failed" {
		t.Errorf("device qc_state %v", d["qc_state"])
	}
	if r := e.do("GET", "/api/poct/v1/qc/runs", e.tokenB, nil); len(r.json(t)["data"].([]any)) != 0 {
		t.Errorf("B sees A's QC: %s", r.body)
	}
	if r := e.do("POST", "/api/poct/v1/qc/runs", e.tokenB, map[string]any{"device_ref": e.devA.UUID, "analyte": "GLU", "value": "1"}); r.status != 422 {
		t.Errorf("B records QC on A's device: %d", r.status)
	}
}

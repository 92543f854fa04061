package attack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the snapshot reads the database file directly

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/reports"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/webhook"
)

// The knobs: `make test` runs the defaults, `make attack` raises them.
var (
	flagRounds  = flag.Int("attack.rounds", 2, "crash-loop rounds (kill -9 and restart)")
	flagWriters = flag.Int("attack.writers", 3, "concurrent API writers per crash-loop round")
	flagRepeat  = flag.Int("attack.repeat", 1, "times each bad input is sent (in parallel after the first)")
)

const password = "correct horse battery staple"

// env is the whole appliance (web.Build, as serve wires it, minus video and
// PDFs) over a real SQLite file, served by httptest, with two organisations
// seeded with the same shapes of data.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	srv    *httptest.Server
	routes []httpx.Route
	a, b   *org
	client *http.Client

	countSQL string  // countsFast's query
	countDB  *sql.DB // countsFast's connection
}

// org is one seeded organisation: its credentials of every kind and the
// ids of its data, as the route tables' path parameters name them.
type org struct {
	m        string // marker: "alpha" or "beta"
	org      *store.Org
	users    map[string]*store.User // by role
	cookies  map[string]string      // Cookie header of a signed-in session, by role
	apiKey   string                 // telehealth Api-Key
	instTok  string                 // instrument API bearer token
	poctTok  string                 // POCT API bearer token
	oauthTok string                 // FHIR / kv / reports / events bearer token
	monTok   string                 // monitoring API access token
	monOrg   string                 // X-Organization-ID
	ids      map[string]string      // fill name -> value (see fills)
	secrets  []string               // strings only this organisation's data contains
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	t.Cleanup(hub.Close)
	// The report worker runs as serve runs it: an ordered encounter report
	// is generated (and stops before the store closes).
	jobs := reports.NewJobs(st, log)
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() { jobs.Run(jobsCtx); close(jobsDone) }()
	t.Cleanup(func() { stopJobs(); <-jobsDone })
	h, routes := web.Build(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://clinic.test", Version: "attack",
		Reports: jobs, PDFs: reports.PDF{},
		SessionKeys: [][]byte{[]byte("attack-suite-key-0123456789abcdef")}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, ctx: ctx, st: st, srv: srv, routes: routes,
		client: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect's Location is part of the answer
		}}}
	e.a = e.seed("alpha")
	e.b = e.seed("beta")
	e.queueDeliveries()
	e.a.lookupIDs(e)
	e.b.lookupIDs(e)
	return e
}

// req is one request as a client sends it.
type req struct {
	method, path string
	header       http.Header
	body         []byte
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json() map[string]any {
	var m map[string]any
	json.Unmarshal(r.body, &m)
	return m
}

// do sends rq; a streamed answer (server-sent events) is read for a moment
// and then cut, so a stream that is open is seen without waiting on it.
func (e *env) do(rq req) resp {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, rq.method, e.srv.URL+rq.path, bytes.NewReader(rq.body))
	if err != nil {
		e.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	for k, v := range rq.header {
		hr.Header[k] = v
	}
	res, err := e.client.Do(hr)
	if err != nil {
		// Errorf, not Fatalf: the matrix sends from several goroutines.
		e.t.Errorf("%s %s: %v", rq.method, rq.path, err)
		return resp{header: http.Header{}}
	}
	defer res.Body.Close()
	var body []byte
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		done := make(chan struct{})
		go func() {
			var buf bytes.Buffer
			io.Copy(&buf, io.LimitReader(res.Body, 1<<20))
			body = buf.Bytes()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(300 * time.Millisecond):
			cancel()
			<-done
		}
	} else {
		body, _ = io.ReadAll(res.Body)
	}
	return resp{status: res.StatusCode, header: res.Header, body: body}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// jsonReq is a JSON request with the given credential headers.
func jsonReq(method, path string, cred http.Header, body any) req {
	h := cred.Clone()
	if h == nil {
		h = http.Header{}
	}
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	if b != nil {
		h.Set("Content-Type", "application/json")
	}
	return req{method: method, path: path, header: h, body: b}
}

func (e *env) must(r resp, want int, what string) resp {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("seed %s: %d (want %d) %s", what, r.status, want, r.body)
	}
	return r
}

func (e *env) check(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("seed %s: %v", what, err)
	}
}

// seed makes one organisation with one of everything the faces serve, as
// its staff and integrations would: through the APIs where a client does
// it, through the store where an admin page or an instrument does.
func (e *env) seed(m string) *org {
	t, ctx, st := e.t, e.ctx, e.st
	t.Helper()
	o := &org{m: m, org: &store.Org{Name: "Clinic " + m, Slug: m}, users: map[string]*store.User{}, cookies: map[string]string{},
		ids: map[string]string{}}
	e.check(st.CreateOrg(ctx, o.org), "org")
	for _, role := range store.Roles {
		u := &store.User{Email: role + "@" + m + ".example", Name: "Staff " + role + " Q" + m, Role: role, Active: true}
		e.check(st.CreateUser(ctx, o.org.ID, u, password), "user")
		o.users[role] = u
	}
	room := &store.WaitingRoom{Name: "Room Q" + m, ServiceLine: "General", ServiceType: "Visit", SlotDuration: 900,
		Hours: store.WeekdayHours(), Timezone: "UTC", Active: true}
	e.check(st.CreateWaitingRoom(ctx, o.org.ID, room), "room")

	var err error
	o.apiKey, err = st.CreateAPIKey(ctx, o.org.ID, &store.APIKey{Name: "integration " + m})
	e.check(err, "api key")
	ic, secret, err := st.CreateInstrumentClient(ctx, o.org.ID, "analyser "+m)
	e.check(err, "instrument client")
	o.ids["instrumentClient"] = ic.ClientID
	o.instTok, _, _, err = st.IssueInstrumentToken(ctx, ic.ClientID, secret)
	e.check(err, "instrument token")
	o.poctTok, err = st.CreatePoctToken(ctx, o.org.ID, &store.PoctToken{Name: "poct " + m})
	e.check(err, "poct token")
	oc, osecret, err := st.CreateOAuthClient(ctx, o.org.ID, store.ClientKindFHIR, "client "+m,
		[]string{"system/*.*", "kv.read", "kv.write", "reports.read", "events.read"})
	e.check(err, "oauth client")
	o.ids["oauthClient"] = oc.ClientID
	o.oauthTok, _, err = st.IssueOAuthToken(ctx, oc.ClientID, osecret, nil)
	e.check(err, "oauth token")

	key := hdr("Api-Key", o.apiKey)
	// The patient and their visit, as an EHR integration books them.
	e.must(e.do(jsonReq("POST", "/qapi/v1/patients", key, map[string]any{
		"id": "ext-" + m, "mrn": "MRN-Q" + m, "birthDate": "1961-04-05",
		"name": []map[string]string{{"use": "official", "firstName": "Zyx" + m, "lastName": "Quorn" + m}}})), 201, "patient")
	pat, err := st.PatientBy(ctx, o.org.ID, store.ByExternalID, "ext-"+m)
	e.check(err, "patient lookup")
	o.ids["patientID"], o.ids["patientUUID"] = fmt.Sprint(pat.ID), pat.UUID
	when := time.Now().Add(48 * time.Hour).Truncate(time.Hour).Unix()
	r := e.must(e.do(jsonReq("POST", "/qapi/v1/patients/ext-"+m+"/appointments", key, map[string]any{
		"waitingRoom": room.Name, "date": when, "duration": 900, "externalId": "appt-ext-" + m, "reasons": []string{"Reason Q" + m}})), 201, "appointment")
	apptID := fmt.Sprintf("%.0f", r.json()["id"])
	o.ids["appointmentID"] = apptID
	tpls, err := st.VisitNoteTemplates(ctx, o.org.ID)
	e.check(err, "note templates")
	var apptN int64
	fmt.Sscan(apptID, &apptN)
	e.check(st.StartVisitNote(ctx, o.org.ID, apptN, tpls[0].ID), "visit note")
	e.must(e.do(req{method: "POST", path: "/qapi/v1/appointments/" + apptID + "/attachments?fileName=scan-" + m + ".pdf",
		header: hdr("Api-Key", o.apiKey, "Content-Type", "application/pdf"), body: []byte("%PDF-1.4\n% attachment Q" + m + "\n")}), 201, "attachment")
	e.must(e.do(jsonReq("POST", "/qapi/v1/patients/ext-"+m+"/documents", key, map[string]any{
		"name": "Intake Q" + m, "dateTime": time.Now().Unix(),
		"responses": []map[string]string{{"question": "Allergies?", "response": "Pollen Q" + m}}})), 201, "document")
	e.must(e.do(jsonReq("POST", "/qapi/v1/patients/ext-"+m+"/episodes", key, map[string]any{
		"name": "Episode Q" + m, "type": "Follow-up", "from": "2026-01-01", "status": "active"})), 201, "episode")
	e.must(e.do(jsonReq("POST", "/qapi/v1/webhooks", key, map[string]any{
		"endpoint": "https://hooks." + m + ".example/in", "events": []string{"patient:created", "patient:updated", "appointment:scheduled"}})), 201, "webhook")
	e.must(e.do(jsonReq("PUT", "/qapi/v1/patients/ext-"+m, key, map[string]any{"accountNumber": "ACC-Q" + m})), 200, "patient update")

	// An instrument with a station, a message and its results.
	dev := &store.Device{Name: "Analyser-Q" + m, Protocol: "astm", PortPath: "/dev/null-" + m, Baud: 9600, DataBits: 8,
		Parity: "none", StopBits: "1", Station: "Lab-Q" + m}
	e.check(st.CreateDevice(ctx, o.org.ID, dev), "device")
	o.ids["deviceID"], o.ids["deviceUUID"], o.ids["station"] = fmt.Sprint(dev.ID), dev.UUID, dev.Station
	msg := &store.DeviceMessage{DeviceID: dev.ID, Protocol: "astm", Kind: "results", Raw: []byte(
		"H|\\^&|||Analyser^1^SN-Q" + m + "||||||P|LIS2-A2|20261202075500\r" +
			"P|1||MRN-Q" + m + "||Quorn" + m + "^Zyx" + m + "||19610405|F\r" +
			"O|1|S-Q" + m + "||^^^GLU\r" +
			"R|1|^^^GLU|5,4|mmol/L|3.9-6.1|N||F||op||20261202075400\r" +
			"L|1|N\r")}
	e.check(st.SaveDeviceMessage(ctx, o.org.ID, msg), "device message")
	_, err = devices.Reingest(ctx, st, o.org.ID, msg.ID)
	e.check(err, "ingest")
	o.ids["messageID"] = fmt.Sprint(msg.ID)

	// Instrument API: a result with a file.
	e.must(e.do(jsonReq("POST", "/api/v1/instrumentResults", hdr("Authorization", "Bearer "+o.instTok), map[string]any{
		"patientID": pat.UUID, "measurementType": "ECG", "measuredAt": "2026-06-30T07:10:00Z",
		"results": []map[string]string{{"code": "HR", "value": "61"}},
		"files":   []map[string]string{{"filename": "ecg-" + m + ".pdf", "data": base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 ecg Q" + m))}}})),
		201, "instrument result")

	// Point of care: an encounter with an order, a document, a QC run, a webhook.
	pt := hdr("Authorization", "Bearer "+o.poctTok)
	r = e.must(e.do(jsonReq("POST", "/api/poct/v1/encounters", pt, map[string]any{"patient_ref": pat.UUID, "station": "Lab-Q" + m})), 201, "encounter")
	enc := r.json()["id"].(string)
	o.ids["encounter"] = enc
	r = e.must(e.do(jsonReq("POST", "/api/poct/v1/orders", pt, map[string]any{"encounter_ref": enc, "sample_id": "S2-Q" + m, "tests": []string{"CRP"}})), 201, "order")
	o.ids["order"] = r.json()["id"].(string)
	r = e.must(e.do(req{method: "POST", path: "/api/poct/v1/encounters/" + enc + "/documents?filename=spiro-" + m + ".pdf&title=Spirometry",
		header: hdr("Authorization", "Bearer "+o.poctTok, "Content-Type", "application/pdf"), body: []byte("%PDF-1.4\n% spiro Q" + m + "\n")}), 201, "poct document")
	o.ids["document"] = r.json()["id"].(string)
	e.must(e.do(jsonReq("PUT", "/api/poct/v1/qc/targets", pt, map[string]any{"device_ref": dev.UUID, "analyte": "GLU", "lot": "L-" + m,
		"mean": 5.5, "sd": 0.2})), 200, "qc target")
	e.must(e.do(jsonReq("POST", "/api/poct/v1/qc/runs", pt, map[string]any{"device_ref": dev.UUID, "analyte": "GLU", "lot": "L-" + m, "value": "5.6"})), 201, "qc run")
	r = e.must(e.do(jsonReq("POST", "/api/poct/v1/webhooks", pt, map[string]any{"url": "https://poct." + m + ".example/hook", "events": []string{"result.created"}})), 201, "poct webhook")
	o.ids["poctWebhook"] = r.json()["id"].(string)
	lis := &store.LISDestination{Name: "lis-Q" + m, Host: "lis." + m + ".example", Port: 2575, HL7Version: "2.5.1", Send: store.LISSendResult}
	e.check(st.AddLISDestination(ctx, o.org.ID, lis), "lis")
	o.ids["lis"] = lis.Name
	_, err = st.QueueLISMessages(ctx, "attack-"+m, 0, []store.LISMessage{{OrgID: o.org.ID, DestinationID: lis.ID, Destination: lis.Name,
		DedupKey: "result-Q" + m, Kind: "result", ControlID: "CTL" + m, Message: []byte("MSH|^~\\&|CLINICBOX|Q" + m + "\r")}})
	e.check(err, "lis message")

	// Key-value and monitoring.
	e.check(st.PutKV(ctx, o.org.ID, &store.KVEntry{Namespace: "ns-q" + m, Key: "k-q" + m, Value: []byte(`{"v":"Q` + m + `"}`),
		ContentType: "application/json"}, store.KVCondition{}), "kv")
	o.ids["namespace"], o.ids["key"] = "ns-q"+m, "k-q"+m
	r = e.must(e.do(jsonReq("POST", "/api/auth/login", nil, map[string]any{"email": o.users[store.RoleClinician].Email, "password": password})), 200, "monitoring login")
	o.monTok, o.monOrg = r.json()["accessToken"].(string), "org_"+o.org.UUID
	mon := hdr("Authorization", "Bearer "+o.monTok, "X-Organization-ID", o.monOrg)
	r = e.must(e.do(jsonReq("POST", "/api/enrollments", mon, map[string]any{"patientId": "patient_" + pat.UUID, "program": "RPM"})), 201, "enrollment")
	o.ids["enrollment"] = r.json()["id"].(string)
	e.must(e.do(jsonReq("POST", "/api/observations", mon, map[string]any{"patientId": "patient_" + pat.UUID, "metricDefinitionId": "metric_spo2",
		"value": 80, "unit": "%", "source": "DEVICE", "recordedAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})), 201, "observation")

	// Staff sign in on the pages.
	for role, u := range o.users {
		o.cookies[role] = e.signIn(u.Email)
	}
	return o
}

// signIn posts the sign-in form as a browser does and answers the Cookie
// header of the session.
func (e *env) signIn(email string) string {
	e.t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	r := e.do(req{method: "POST", path: "/signin", header: hdr("Content-Type", "application/x-www-form-urlencoded"), body: []byte(form.Encode())})
	if r.status != http.StatusSeeOther && r.status != http.StatusFound {
		e.t.Fatalf("sign in %s: %d %s", email, r.status, r.body)
	}
	var parts []string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		e.t.Fatalf("sign in %s: no cookie", email)
	}
	return strings.Join(parts, "; ")
}

// queueDeliveries runs the webhook workers' queueing step once (their
// network step is not needed): each organisation gets delivery rows.
func (e *env) queueDeliveries() {
	evs, err := e.st.EventsAfter(e.ctx, 0, 0, 500)
	e.check(err, "events")
	_, err = e.st.EnqueueDeliveries(e.ctx, webhook.Consumer, evs, webhook.Data)
	e.check(err, "webhook deliveries")
	var bodies []store.PoctEventBody
	for _, ev := range evs {
		b, err := webhook.PoctBody(e.ctx, e.st, ev)
		e.check(err, "poct body")
		if b != nil {
			bodies = append(bodies, *b)
		}
	}
	if len(evs) > 0 {
		_, err = e.st.QueuePoctDeliveries(e.ctx, webhook.PoctConsumer, evs[len(evs)-1].ID, bodies)
		e.check(err, "poct deliveries")
	}
}

// lookupIDs reads the ids no answer gave us from the database, each
// scoped to the organisation.
func (o *org) lookupIDs(e *env) {
	db := e.db()
	defer db.Close()
	one := func(name, q string) {
		var v any
		if err := db.QueryRow(q, o.org.ID).Scan(&v); err != nil {
			e.t.Fatalf("seed %s: %s: %v", o.m, name, err)
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		o.ids[name] = fmt.Sprint(v)
	}
	one("apptUUID", `SELECT uuid FROM appointments WHERE org_id = ? AND external_id LIKE 'appt-ext-%'`)
	one("patientToken", `SELECT patient_token FROM appointments WHERE org_id = ? AND external_id LIKE 'appt-ext-%'`)
	one("attachment", `SELECT uuid FROM attachments WHERE org_id = ?`)
	one("episode", `SELECT uuid FROM episodes WHERE org_id = ?`)
	one("webhook", `SELECT uuid FROM webhooks WHERE org_id = ?`)
	one("webhookDelivery", `SELECT id FROM webhook_deliveries WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("poctDelivery", `SELECT id FROM poct_deliveries WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("result", `SELECT uuid FROM observations WHERE org_id = ? AND uuid != '' ORDER BY id LIMIT 1`)
	one("observation", `SELECT uuid FROM observations WHERE org_id = ? AND uuid != '' ORDER BY id DESC LIMIT 1`)
	one("patientFile", `SELECT id FROM patient_files WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("alert", `SELECT uuid FROM alerts WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("userID", `SELECT id FROM users WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("roomID", `SELECT id FROM waiting_rooms WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("apiKeyID", `SELECT id FROM api_keys WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("poctTokenID", `SELECT id FROM poct_tokens WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("templateID", `SELECT id FROM visit_note_templates WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("visitNote", `SELECT uuid FROM visit_notes WHERE org_id = ?`)
	one("patientFileUUID", `SELECT uuid FROM patient_files WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("userUUID", `SELECT uuid FROM users WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("roomUUID", `SELECT uuid FROM waiting_rooms WHERE org_id = ? ORDER BY id LIMIT 1`)
	one("lisMessage", `SELECT COALESCE(MAX(id), 0) FROM lis_messages WHERE org_id = ?`)
	o.secrets = append(o.secrets, "Q"+o.m, o.ids["patientUUID"], o.ids["apptUUID"], o.ids["patientToken"], o.ids["attachment"],
		o.ids["episode"], o.ids["encounter"], o.ids["order"], o.ids["document"], o.ids["enrollment"], o.ids["alert"],
		o.ids["result"], o.ids["deviceUUID"], o.ids["webhook"], o.org.UUID, o.ids["instrumentClient"], o.ids["oauthClient"])
}

// db opens the database file beside the store (read only), for snapshots
// and id look-ups the faces do not offer.
func (e *env) db() *sql.DB {
	db, err := sql.Open("sqlite3", "file:"+e.st.Path()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		e.t.Fatal(err)
	}
	return db
}

// snapshot hashes every row of every table that belongs to organisation
// orgID (tables with an org_id column), table by table. Nothing another
// organisation does may change it.
func (e *env) snapshot(orgID int64) map[string]string {
	db := e.db()
	defer db.Close()
	out := map[string]string{}
	for _, tbl := range tables(e.t, db) {
		cols := columns(e.t, db, tbl)
		if !slices.Contains(cols, "org_id") {
			continue
		}
		// A credential's last use is recorded when it authenticates, at
		// most once a minute, whatever then becomes of the request: a
		// suite that runs past a minute would see a refused request
		// "change" it. It is not data the request carried.
		cols = slices.DeleteFunc(cols, func(c string) bool { return c == "last_used_at" })
		// Ordered by every column: some tables have no rowid.
		order := make([]string, len(cols))
		quoted := make([]string, len(cols))
		for i, c := range cols {
			order[i] = fmt.Sprint(i + 1)
			quoted[i] = `"` + c + `"`
		}
		rows, err := db.Query(`SELECT `+strings.Join(quoted, ", ")+` FROM "`+tbl+`" WHERE org_id = ? ORDER BY `+strings.Join(order, ", "), orgID)
		if err != nil {
			e.t.Fatalf("snapshot %s: %v", tbl, err)
		}
		out[tbl] = hashRows(e.t, rows)
	}
	return out
}

// counts is the number of rows of every table: a refused request stores
// nothing, whichever organisation's table it would have touched.
func (e *env) counts() map[string]int {
	db := e.db()
	defer db.Close()
	out := map[string]int{}
	for _, tbl := range tables(e.t, db) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "` + tbl + `"`).Scan(&n); err != nil {
			e.t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

func tables(t testing.TB, db *sql.DB) []string {
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func columns(t testing.TB, db *sql.DB, tbl string) []string {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, tbl)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func hashRows(t testing.TB, rows *sql.Rows) string {
	defer rows.Close()
	cols, _ := rows.Columns()
	h := sha256.New()
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%v\x00", vals)
		n++
	}
	return fmt.Sprintf("%d rows %s", n, hex.EncodeToString(h.Sum(nil))[:16])
}

// diff names what differs between two snapshots.
func diff[V comparable](before, after map[string]V) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, fmt.Sprintf("%s: %v -> %v", k, before[k], v))
		}
	}
	sort.Strings(out)
	return out
}

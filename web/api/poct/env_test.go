package poct_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/api/poct"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// env is two clinics (A and B), each with a token, a device and a
// patient, served over HTTPS as a client reaches it.
type env struct {
	t              *testing.T
	ctx            context.Context
	st             *store.Store
	clock          *storetest.Clock
	srv            *httptest.Server
	orgA, orgB     *store.Org
	tokenA, tokenB string
	devA, devB     *store.Device
	patA, patB     *store.Patient
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	st := storetest.Open(t, store.WithClock(c.Now))
	var err error
	e := &env{t: t, ctx: ctx, st: st, clock: c}
	e.orgA, e.orgB = storetest.Org(t, st, "Clinic A", "a"), storetest.Org(t, st, "Clinic B", "b")
	if e.tokenA, err = st.CreatePoctToken(ctx, e.orgA.ID, &store.PoctToken{Name: "LIS A"}); err != nil {
		t.Fatal(err)
	}
	if e.tokenB, err = st.CreatePoctToken(ctx, e.orgB.ID, &store.PoctToken{Name: "LIS B"}); err != nil {
		t.Fatal(err)
	}
	e.devA = &store.Device{Name: "Afinion", Protocol: "astm", PortPath: "/dev/ttyUSB0", Station: "Lab"}
	e.devB = &store.Device{Name: "Afinion", Protocol: "astm", PortPath: "/dev/ttyUSB0", Station: "Lab"}
	if err := st.CreateDevice(ctx, e.orgA.ID, e.devA); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDevice(ctx, e.orgB.ID, e.devB); err != nil {
		t.Fatal(err)
	}
	e.patA = &store.Patient{MRN: "MRN-A1", NationalID: "0101801234", BirthDate: "1980-01-01", Gender: "female", Active: true,
		Names: []store.HumanName{{FirstName: "Anna", LastName: "Jensen"}}}
	e.patB = &store.Patient{MRN: "MRN-B1", Active: true, Names: []store.HumanName{{FirstName: "Bo", LastName: "Berg"}}}
	if err := st.CreatePatient(ctx, e.orgA.ID, e.patA); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePatient(ctx, e.orgB.ID, e.patB); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpx.Register(mux, poct.New(poct.Deps{Store: st, RequireTLS: true}).Routes())
	e.srv = httptest.NewTLSServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// ingest stores raw as a message of dev and ingests it, as the port
// manager does after an instrument sent it.
func (e *env) ingest(orgID int64, dev *store.Device, protocol string, raw string) int64 {
	e.t.Helper()
	m := &store.DeviceMessage{DeviceID: dev.ID, Protocol: protocol, Raw: []byte(raw), Kind: "results"}
	if err := e.st.SaveDeviceMessage(e.ctx, orgID, m); err != nil {
		e.t.Fatal(err)
	}
	if _, err := devices.Reingest(e.ctx, e.st, orgID, m.ID); err != nil {
		e.t.Fatal(err)
	}
	return m.ID
}

// astmResults is an ASTM message (LIS2-A2 records) as an HbA1c and a WBC
// analyser send them: values with a decimal comma and a "<", units as sent.
func astmResults(patientID, sample string) string {
	return "H|\\^&|||Afinion^4.11^SN-7731||||||P|LIS2-A2|20261202075500\r" +
		"P|1||" + patientID + "||Jensen^Anna||19800101|F\r" +
		"O|1|" + sample + "||^^^HBA1C\\^^^WBC\r" +
		"R|1|^^^HBA1C|<0,5|mmol/mol|20-42|L||F||op7||20261202075400\r" +
		"R|2|^^^WBC|7,41|10*3/uL|3.5-10.0|N||F||op7||20261202075400\r" +
		"L|1|N\r"
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// field reads a dotted path ("data.0.value") from a decoded answer.
func field(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

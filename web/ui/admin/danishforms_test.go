package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// TestAdminFormErrorsInDanish: an invalid admin form posted by a Danish
// admin comes back with the store's (and the form's own) refusal in Danish,
// the English words gone; an English admin gets the same refusal in English.
// Nothing is stored.
func TestAdminFormErrorsInDanish(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	danish := &store.User{Email: "dorte@north.example", Name: "Dorte Dansk", Role: store.RoleAdmin, Active: true}
	must(t, s.st.CreateUser(ctx, s.north.ID, danish, pw))
	must(t, s.st.SetUserLanguage(ctx, s.north.ID, danish.ID, "da"))
	must(t, s.st.CreateWaitingRoom(ctx, s.north.ID, &store.WaitingRoom{Name: "Stue 1", SlotDuration: 900, Timezone: "Europe/Copenhagen", Active: true}))
	da, en := s.signIn(t, danish.Email), s.signIn(t, "admin@north.example")

	device := url.Values{"name": {"Afinion 3"}, "protocol": {"astm"}, "baud": {"9600"}, "data_bits": {"8"},
		"parity": {"none"}, "stop_bits": {"1"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	lis := url.Values{"name": {"lab2"}, "host": {"10.0.0.21"}, "port": {"2575"}, "hl7Version": {"2.5.1"}, "send": {"result"}}
	tests := []struct {
		name, path string
		form       url.Values
		da, en     string // the refusal in each language
	}{
		{"user with an unknown role", "/admin/users/new",
			url.Values{"email": {"new@north.example"}, "name": {"Ny"}, "role": {"boss"}, "password": {pw}},
			"skal være admin, clinician eller frontdesk", "must be admin, clinician or frontdesk"},
		{"user with an address in use", "/admin/users/new",
			url.Values{"email": {"admin@north.example"}, "name": {"Ny"}, "role": {"clinician"}, "password": {pw}},
			"er allerede i brug", "is already in use"},
		{"user with a short password", "/admin/users/new",
			url.Values{"email": {"new@north.example"}, "name": {"Ny"}, "role": {"clinician"}, "password": {"kort"}},
			"skal være mindst 10 tegn", "must be at least 10 characters"},
		{"room with a taken name", "/admin/rooms/new",
			url.Values{"name": {"Stue 1"}, "slotMinutes": {"15"}, "timezone": {"Europe/Copenhagen"}, "active": {"1"}},
			"der findes allerede et venteværelse med dette navn", "a waiting room with this name already exists"},
		{"room in an unknown zone", "/admin/rooms/new",
			url.Values{"name": {"Stue 2"}, "slotMinutes": {"15"}, "timezone": {"Europe/Aarhus"}, "active": {"1"}},
			"er ikke en kendt tidszone", "is not a known time zone"},
		{"serial device over TCP", "/admin/devices", with(device, "tcp_addr", "0.0.0.0:2576"),
			"kun HL7-enheder (MLLP) forbinder over TCP", "only HL7 (MLLP) devices connect over TCP"},
		{"device with a taken name", "/admin/devices", with(device, "name", "Afinion 2", "port_path", "/dev/ttyUSB7"),
			"er allerede i brug (enhed)", "a device named &#34;Afinion 2&#34; already exists"},
		{"device with a baud rate that is no number", "/admin/devices", with(device, "baud", "fast", "port_path", "/dev/ttyUSB7"),
			"skal være et tal", "must be a number"},
		{"LIS with a bad pin", "/admin/poct/lis", with(lis, "tls", "on", "pin", "xyz"),
			"skal være et SHA-256-fingeraftryk", "must be a SHA-256 fingerprint"},
		{"LIS with a taken name", "/admin/poct/lis", with(lis, "name", "labka"),
			"er allerede i brug (LIS-modtager)", "a LIS destination named &#34;labka&#34; already exists"},
		{"QC target with a mean that is no number", "/admin/poct/qc/targets",
			url.Values{"device": {fmt.Sprint(s.devs[0].ID)}, "code": {"GLU"}, "lot": {"L9"}, "level": {"1"}, "mean": {"abc"}, "sd": {"0.2"}, "unit": {"mmol/L"}},
			"skal være et tal", "must be a number"},
		{"fleet access for an unknown address", "/admin/poct/access", url.Values{"email": {"nobody@nowhere.example"}},
			"ingen administrator har denne e-mailadresse", "no administrator has this email address"},
		{"mail server port out of range", "/admin/settings",
			url.Values{"language": {"da"}, "host": {"smtp.example"}, "port": {"70000"}, "from": {"klinik@north.example"}},
			"skal være mellem 1 og 65535", "must be in range [1, 65535]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			devsBefore, _ := s.st.Devices(ctx, s.north.ID, store.DeviceFilter{})
			code, _, body := da.do("POST", tt.path, tt.form)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("Danish: %d, want 422\n%s", code, body)
			}
			if !strings.Contains(body, tt.da) || strings.Contains(body, tt.en) {
				t.Errorf("Danish page: want %q and not %q\n%s", tt.da, tt.en, errorsOf(body))
			}
			code, _, body = en.do("POST", tt.path, tt.form)
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, tt.en) {
				t.Errorf("English page: %d, want 422 with %q\n%s", code, tt.en, errorsOf(body))
			}
			if devs, _ := s.st.Devices(ctx, s.north.ID, store.DeviceFilter{}); len(devs) != len(devsBefore) {
				t.Errorf("a refused form stored a device: %d, had %d", len(devs), len(devsBefore))
			}
		})
	}
	// Nothing the refused forms asked for was stored.
	users, err := s.st.Users(ctx, s.north.ID)
	must(t, err)
	for _, u := range users {
		if u.Email == "new@north.example" {
			t.Error("a refused user form created the user")
		}
	}
	if ds, _ := s.st.LISDestinations(ctx, s.north.ID); len(ds) != 1 {
		t.Errorf("%d LIS destinations after refused forms, want 1", len(ds))
	}
	if gs, _ := s.st.FleetGrants(ctx, s.north.ID); len(gs) != 0 {
		t.Errorf("a refused grant was stored: %v", gs)
	}
}

// errorsOf is the field errors and flashes of a page, for a failure's
// message.
func errorsOf(body string) string {
	var out []string
	for _, marker := range []string{`class="field-error"`, `class="flash`, `class="error-page`, `<h1`} {
		rest := body
		for {
			_, after, ok := strings.Cut(rest, marker)
			if !ok {
				break
			}
			_, after, _ = strings.Cut(after, ">")
			msg, _, _ := strings.Cut(after, "<")
			out = append(out, strings.TrimSpace(msg))
			rest = after
		}
	}
	return strings.Join(out, " | ")
}

// TestFleetPageInBothLanguages: the fleet page and the fragment fleet.js
// reloads name each device's state, its QC state and "never" in the
// reader's language; the data-state attribute keeps the code for scripts
// and tests.
func TestFleetPageInBothLanguages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	// The distributor sees North's devices and East's (granted).
	must(t, s.st.SetUserLanguage(ctx, s.north.ID, s.distributor.ID, "da"))
	da, en := s.signIn(t, s.distributor.Email), s.signIn(t, "admin@north.example")
	cell := func(body, device, testid string) string {
		_, row, ok := strings.Cut(body, `data-testid="device-`+device+`"`)
		if !ok {
			return ""
		}
		row, _, _ = strings.Cut(row, "</tr>")
		_, after, ok := strings.Cut(row, `data-testid="`+testid+`">`)
		if !ok {
			return ""
		}
		v, _, _ := strings.Cut(after, "<")
		return v
	}
	lastMessage := func(body, device string) string {
		_, row, _ := strings.Cut(body, `data-testid="device-`+device+`"`)
		row, _, _ = strings.Cut(row, "</tr>")
		return row
	}
	afinion, cobas, hemocue := s.devs[0].UUID, s.devs[1].UUID, s.devs[3].UUID
	tests := []struct {
		who                  *client
		path                 string
		connected, errState  string
		disconnected, qcFail string
		never, notIn         string
	}{
		{da, "/admin/poct/fleet", "forbundet", "fejl", "afbrudt", "fejlet", "aldrig", ">connected<"},
		{da, "/admin/poct/fleet?fragment=1", "forbundet", "fejl", "afbrudt", "fejlet", "aldrig", ">never<"},
		{en, "/admin/poct/fleet", "connected", "error", "", "failed", "never", ">forbundet<"},
		{en, "/admin/poct/fleet?fragment=1", "connected", "error", "", "failed", "never", ">aldrig<"},
	}
	for _, tt := range tests {
		code, _, body := tt.who.do("GET", tt.path, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", tt.path, code)
		}
		if got := cell(body, afinion, "state"); got != tt.connected {
			t.Errorf("%s: Afinion's state %q, want %q", tt.path, got, tt.connected)
		}
		if got := cell(body, cobas, "state"); got != tt.errState {
			t.Errorf("%s: cobas' state %q, want %q", tt.path, got, tt.errState)
		}
		if tt.disconnected != "" {
			if got := cell(body, hemocue, "state"); got != tt.disconnected {
				t.Errorf("%s: HemoCue's state %q, want %q", tt.path, got, tt.disconnected)
			}
		}
		// The glucose control broke Westgard rules: the Afinion's QC failed.
		if got := cell(body, afinion, "qc"); got != tt.qcFail {
			t.Errorf("%s: Afinion's QC %q, want %q", tt.path, got, tt.qcFail)
		}
		// The cobas ran no QC.
		if got, want := cell(body, cobas, "qc"), map[bool]string{true: "ingen", false: "none"}[tt.who == da]; got != want {
			t.Errorf("%s: cobas' QC %q, want %q", tt.path, got, want)
		}
		// The cobas never sent a message.
		if row := lastMessage(body, cobas); !strings.Contains(row, "<td>"+tt.never+"</td>") {
			t.Errorf("%s: cobas' last message is not %q:\n%s", tt.path, tt.never, row)
		}
		if strings.Contains(body, tt.notIn) {
			t.Errorf("%s: the page says %q", tt.path, tt.notIn)
		}
		if !strings.Contains(body, `data-state="connected"`) {
			t.Errorf("%s: data-state lost its code", tt.path)
		}
	}
}

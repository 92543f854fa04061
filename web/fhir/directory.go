package fhir

import (
	"net/http"
	"slices"

	"github.com/clinicbox/clinicbox/store"
)

// The directory resources: who works here (Practitioner), the organisation
// itself, its waiting rooms (Location) and its instruments (Device). They
// are few per organisation, so they are listed and filtered in memory.

// Practitioner is a clinic user.
type Practitioner struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Meta         *Meta          `json:"meta,omitempty"`
	Active       bool           `json:"active"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
}

func (p *Practitioner) fhirType() string { return "Practitioner" }
func (p *Practitioner) fhirID() string   { return p.ID }

// Organization is the clinic.
type Organization struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Active       bool         `json:"active"`
	Name         string       `json:"name"`
}

func (o *Organization) fhirType() string { return "Organization" }
func (o *Organization) fhirID() string   { return o.ID }

// Location is a waiting room: where a video visit's patient waits.
type Location struct {
	ResourceType         string            `json:"resourceType"`
	ID                   string            `json:"id"`
	Meta                 *Meta             `json:"meta,omitempty"`
	Status               string            `json:"status"`
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	Mode                 string            `json:"mode"`
	Type                 []CodeableConcept `json:"type,omitempty"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
}

func (l *Location) fhirType() string { return "Location" }
func (l *Location) fhirID() string   { return l.ID }

// Device is an instrument on a serial port or TCP.
type Device struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Meta         *Meta            `json:"meta,omitempty"`
	Identifier   []Identifier     `json:"identifier,omitempty"`
	Status       string           `json:"status"`
	DeviceName   []DeviceName     `json:"deviceName,omitempty"`
	Type         *CodeableConcept `json:"type,omitempty"`
	Owner        *Reference       `json:"owner,omitempty"`
	Note         []Annotation     `json:"note,omitempty"`
	Location     *Reference       `json:"location,omitempty"`
	Extension    []Extension      `json:"extension,omitempty"`
}

// DeviceName is a device's name.
type DeviceName struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func (d *Device) fhirType() string { return "Device" }
func (d *Device) fhirID() string   { return d.ID }

// SystemUSBSerial is the system of a device's USB adapter serial number.
const SystemUSBSerial = "urn:clinicbox:usb-serial"

func (h *Handler) toPractitioner(u *store.User) *Practitioner {
	p := &Practitioner{ResourceType: "Practitioner", ID: u.UUID, Meta: &Meta{LastUpdated: instant(u.UpdatedAt)}, Active: u.Active}
	if u.Name != "" {
		p.Name = []HumanName{{Text: u.Name}}
	}
	if u.Email != "" {
		p.Telecom = []ContactPoint{{System: "email", Value: u.Email, Use: "work"}}
	}
	return p
}

func (h *Handler) toOrganization(o *store.Org) *Organization {
	return &Organization{ResourceType: "Organization", ID: o.UUID, Meta: &Meta{LastUpdated: instant(o.UpdatedAt)}, Active: true,
		Name: o.Name, Identifier: []Identifier{{System: "urn:clinicbox:org-slug", Value: o.Slug}}}
}

func (h *Handler) toLocation(w *store.WaitingRoom, orgUUID string) *Location {
	l := &Location{ResourceType: "Location", ID: w.UUID, Meta: &Meta{LastUpdated: instant(w.UpdatedAt)}, Status: "active",
		Name: w.Name, Mode: "instance", Description: w.ServiceLine,
		Type:                 []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v3-RoleCode", Code: "WAIT", Display: "Waiting room"}}}},
		ManagingOrganization: &Reference{Reference: "Organization/" + orgUUID}}
	if !w.Active {
		l.Status = "inactive"
	}
	return l
}

func (h *Handler) toDevice(d *store.Device, orgUUID string) *Device {
	out := &Device{ResourceType: "Device", ID: d.UUID, Meta: &Meta{LastUpdated: instant(d.UpdatedAt)}, Status: "active",
		DeviceName: []DeviceName{{Name: d.Name, Type: "user-friendly-name"}},
		Type:       &CodeableConcept{Text: "instrument (" + d.Protocol + ")"},
		Owner:      &Reference{Reference: "Organization/" + orgUUID}}
	switch {
	case !d.RemovedAt.IsZero():
		out.Status = "inactive"
	case !d.Active:
		out.Status = "inactive"
	}
	if d.USBSerial != "" {
		out.Identifier = []Identifier{{System: SystemUSBSerial, Value: d.USBSerial}}
	}
	if d.Station != "" {
		out.Note = []Annotation{{Text: "station " + d.Station}}
	}
	return out
}

// directory answers read and search of the directory types from lists.
type directoryList func(r *http.Request) ([]resource, error)

func (h *Handler) directory(typ string, list directoryList) (read, search http.HandlerFunc) {
	read = func(w http.ResponseWriter, r *http.Request) {
		all, err := list(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		id := r.PathValue("id")
		i := slices.IndexFunc(all, func(x resource) bool { return x.fhirID() == id })
		if i < 0 {
			h.fail(w, r, notFound(typ, id))
			return
		}
		writeResource(w, http.StatusOK, all[i])
	}
	search = func(w http.ResponseWriter, r *http.Request) {
		q, err := newQuery(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ids, err := q.ids()
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p, err := q.page()
		if err == nil {
			_, err = q.sortDate(false)
		}
		if err == nil {
			err = q.check(typ)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		all, err := list(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if ids != nil {
			all = slices.DeleteFunc(all, func(x resource) bool { return !slices.Contains(ids, x.fhirID()) })
		}
		all = all[min(p.Offset, len(all)):]
		more := len(all) > p.Limit
		h.searchset(w, r, q, p, all[:min(p.Limit, len(all))], more, nil)
	}
	return read, search
}

func (h *Handler) org(r *http.Request) (*store.Org, error) {
	return h.store.Org(r.Context(), orgID(r))
}

func (h *Handler) practitioners(r *http.Request) ([]resource, error) {
	us, err := h.store.Users(r.Context(), orgID(r))
	out := make([]resource, len(us))
	for i := range us {
		out[i] = h.toPractitioner(&us[i])
	}
	return out, err
}

func (h *Handler) organizations(r *http.Request) ([]resource, error) {
	o, err := h.org(r)
	if err != nil {
		return nil, err
	}
	return []resource{h.toOrganization(o)}, nil
}

func (h *Handler) locations(r *http.Request) ([]resource, error) {
	o, err := h.org(r)
	if err != nil {
		return nil, err
	}
	ws, err := h.store.WaitingRooms(r.Context(), orgID(r))
	out := make([]resource, len(ws))
	for i := range ws {
		out[i] = h.toLocation(&ws[i], o.UUID)
	}
	return out, err
}

func (h *Handler) devices(r *http.Request) ([]resource, error) {
	o, err := h.org(r)
	if err != nil {
		return nil, err
	}
	ds, err := h.store.Devices(r.Context(), orgID(r), store.DeviceFilter{IncludeRemoved: true})
	out := make([]resource, len(ds))
	for i := range ds {
		out[i] = h.toDevice(&ds[i], o.UUID)
	}
	return out, err
}

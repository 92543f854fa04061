package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// DeviceRow is a device with its live state.
type DeviceRow struct {
	Device  store.Device
	State   DeviceState
	Running bool // the manager runs it (false: server not running devices, or just added)
}

// DevicesProps is the device admin page.
type DevicesProps struct {
	Page     layout.PageProps
	Devices  []DeviceRow
	Ports    []Port
	PortsErr string
	Form     store.Device
	Errors   layout.Errors
}

// DeviceEditProps is the edit page of one device.
type DeviceEditProps struct {
	Page   layout.PageProps
	Name   string // the name as stored (the form may hold an edited one)
	Form   store.Device
	Errors layout.Errors
}

// DeviceLogProps is a device's raw message log.
type DeviceLogProps struct {
	Page     layout.PageProps
	Device   store.Device
	Messages []store.DeviceMessage
	Raw      []string // each message's bytes as a transcript
}

func (h *handlers) devicesProps(w http.ResponseWriter, r *http.Request) (DevicesProps, error) {
	p := DevicesProps{Page: h.pageProps(w, r, text.T(r.Context()).AdminDevices, layout.NavAdmin), Form: store.Device{Baud: 9600, DataBits: 8, Parity: "none", StopBits: "1", Protocol: "astm"}}
	devs, err := h.st.Devices(r.Context(), orgOf(r), store.DeviceFilter{})
	if err != nil {
		return p, err
	}
	if h.devices == nil {
		for _, d := range devs {
			p.Devices = append(p.Devices, DeviceRow{Device: d})
		}
		p.PortsErr = i18n.T(r.Context(), "DevNoRunner")
		return p, nil
	}
	for _, d := range devs {
		st, ok := h.devices.State(orgOf(r), d.ID)
		p.Devices = append(p.Devices, DeviceRow{Device: d, State: st, Running: ok})
	}
	p.Ports, err = h.devices.Ports()
	if err != nil {
		p.PortsErr = err.Error()
	}
	return p, nil
}

// adminDevices lists the devices with their live state, the serial ports
// present, and a form to add a device.
func (h *handlers) adminDevices(w http.ResponseWriter, r *http.Request) {
	p, err := h.devicesProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.Render(w, r, http.StatusOK, DevicesPage(p))
}

// readDeviceForm reads the device form into d; bad holds the fields that are
// not even numbers or known choices.
func readDeviceForm(r *http.Request, d *store.Device) (bad layout.Errors) {
	bad = layout.Errors{}
	d.Name, d.Protocol, d.PortPath = r.PostFormValue("name"), r.PostFormValue("protocol"), r.PostFormValue("port_path")
	d.USBSerial, d.TCPAddr, d.Parity = r.PostFormValue("usb_serial"), r.PostFormValue("tcp_addr"), r.PostFormValue("parity")
	d.StopBits, d.Station, d.Options = r.PostFormValue("stop_bits"), r.PostFormValue("station"), r.PostFormValue("options")
	var err error
	if d.Baud, err = strconv.Atoi(r.PostFormValue("baud")); err != nil {
		bad["baud"] = "must be a number"
	}
	if d.DataBits, err = strconv.Atoi(r.PostFormValue("data_bits")); err != nil {
		bad["dataBits"] = "must be a number"
	}
	switch r.PostFormValue("framing_rules") {
	case "", "tolerant":
		d.StrictFraming = false
	case "strict":
		d.StrictFraming = true
	default:
		bad["strictFraming"] = "must be tolerant or strict"
	}
	return layout.LocalFields(r.Context(), bad)
}

// saveErrors turns a store error into form errors in the reader's
// language (nil, nil: saved).
func saveErrors(ctx context.Context, err error) (layout.Errors, error) {
	var ve *store.ValidationError
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ve):
		return layout.LocalFields(ctx, ve.Fields), nil
	case errors.As(err, &ce):
		return layout.Errors{"name": layout.Message(ctx, ce.Msg)}, nil
	}
	return nil, err
}

func (h *handlers) createDevice(w http.ResponseWriter, r *http.Request) {
	d := &store.Device{}
	bad := readDeviceForm(r, d)
	if len(bad) == 0 {
		var err error
		if bad, err = saveErrors(r.Context(), h.st.CreateDevice(r.Context(), orgOf(r), d)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(bad) > 0 {
		p, err := h.devicesProps(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Form, p.Errors = *d, bad
		layout.Render(w, r, http.StatusUnprocessableEntity, DevicesPage(p))
		return
	}
	h.reload()
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "DevAdded", "Name", d.Name))
	http.Redirect(w, r, "/admin/devices", http.StatusSeeOther)
}

// editDevice shows the form of one device, filled in.
func (h *handlers) editDevice(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	d, err := h.st.Device(r.Context(), orgOf(r), id)
	if err == nil && !d.RemovedAt.IsZero() {
		err = store.ErrNotFound
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	layout.Render(w, r, http.StatusOK, DeviceEditPage(DeviceEditProps{Page: h.devicePageProps(w, r, i18n.T(r.Context(), "DevEditTitle", "Name", d.Name)), Name: d.Name, Form: *d}))
}

// updateDevice saves the edited form; the device's runner restarts with it.
func (h *handlers) updateDevice(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var form store.Device
	bad := readDeviceForm(r, &form)
	name := ""
	if len(bad) == 0 {
		_, err := h.st.UpdateDevice(r.Context(), orgOf(r), id, func(d *store.Device) error {
			name = d.Name
			form.ID, form.UUID, form.OrgID, form.Active, form.CreatedAt = d.ID, d.UUID, d.OrgID, d.Active, d.CreatedAt
			*d = form
			return nil
		})
		if bad, err = saveErrors(r.Context(), err); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(bad) > 0 {
		if name == "" {
			d, err := h.st.Device(r.Context(), orgOf(r), id)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			name = d.Name
		}
		form.ID = id
		layout.Render(w, r, http.StatusUnprocessableEntity, DeviceEditPage(DeviceEditProps{
			Page: h.devicePageProps(w, r, i18n.T(r.Context(), "DevEditTitle", "Name", name)), Name: name, Form: form, Errors: bad}))
		return
	}
	h.devices.Reload()
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "DevSaved", "Name", form.Name))
	http.Redirect(w, r, "/admin/devices", http.StatusSeeOther)
}

func (h *handlers) removeDevice(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.st.RemoveDevice(r.Context(), orgOf(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.reload()
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "DevRemoved"))
	http.Redirect(w, r, "/admin/devices", http.StatusSeeOther)
}

// deviceLog shows the newest raw messages of a device, byte for byte.
func (h *handlers) deviceLog(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	d, err := h.st.Device(r.Context(), orgOf(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ms, err := h.st.DeviceMessages(r.Context(), orgOf(r), store.DeviceMessageFilter{DeviceID: id, WithRaw: true, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	raw := make([]string, len(ms))
	for i, m := range ms {
		if h.devices != nil {
			raw[i] = h.devices.Transcript(m.Raw)
		} else {
			raw[i] = fmt.Sprintf("%q", m.Raw)
		}
	}
	layout.Render(w, r, http.StatusOK, DeviceLogPage(DeviceLogProps{Page: h.devicePageProps(w, r, i18n.T(r.Context(), "DevLogTitle", "Name", d.Name)), Device: *d, Messages: ms, Raw: raw}))
}

// reingest runs ingestion again on a stored message.
func (h *handlers) reingest(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	mid, _ := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	m, err := h.st.DeviceMessage(r.Context(), orgOf(r), mid)
	if err != nil || m.DeviceID != id {
		h.fail(w, r, store.ErrNotFound)
		return
	}
	if h.devices == nil {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "DevNoInstruments"))
		http.Redirect(w, r, fmt.Sprintf("/admin/devices/%d/log", id), http.StatusSeeOther)
		return
	}
	in, err := h.devices.Reingest(r.Context(), orgOf(r), mid)
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, layout.LocalMessage(r.Context(), ve))
	case err != nil:
		h.fail(w, r, err)
		return
	case in.Status == store.MessageFailed:
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "DevReingestFails", "ID", mid, "Err", in.Error))
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "DevReingested", "ID", mid, "N", len(in.Observations), "Status", in.Status))
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/devices/%d/log", id), http.StatusSeeOther)
}

// reload tells the manager, when there is one, that the devices changed.
func (h *handlers) reload() {
	if h.devices != nil {
		h.devices.Reload()
	}
}

// devicePageProps is the frame of one device's page: Administration ›
// Devices › the page.
func (h *handlers) devicePageProps(w http.ResponseWriter, r *http.Request, title string) layout.PageProps {
	p := h.pageProps(w, r, title, layout.NavAdmin)
	t := text.T(r.Context())
	p.Crumbs = []layout.Crumb{{Label: t.AdminTitle, Href: "/admin"}, {Label: t.AdminDevices, Href: "/admin/devices"}, {Label: title}}
	return p
}

// protocolOptions are the protocols a device speaks: the two standards by
// their own names, the plain-text one described in the reader's language.
func protocolOptions(ctx context.Context) []layout.Option {
	return []layout.Option{{Value: "astm", Label: "ASTM (LIS2-A2)"}, {Value: "hl7", Label: "HL7 v2 (MLLP)"},
		{Value: "line", Label: i18n.T(ctx, "DevProtoLine")}}
}

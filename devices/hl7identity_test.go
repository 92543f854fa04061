package devices

import (
	"context"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/devices/sim"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// TestHL7DeviceIdentity: firmware from SFT-2, serial number from OBX-18
// (universal id, else entity id), else from MSH-3 when it names an
// identifier type; an untyped MSH-3 (an application name) is no serial.
func TestHL7DeviceIdentity(t *testing.T) {
	const obr = "OBR|1|ORD-1|F-1|2345-7^Glucose^LN\r"
	cases := []struct {
		name           string
		msg            string
		firmware, sern string
	}{
		{"SFT and OBX-18 universal id",
			"MSH|^~\\&|GLUCOSCAN|WARD|CLINICBOX|C|20250314101530||ORU^R01|1|P|2.5.1\r" +
				"SFT|Acme Diagnostics^L|4.2.1-b17|GlucoScan firmware|b17\r" + obr +
				"OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L|||||F|||||||GS-7^ACME^0012345^EUI-64\r",
			"4.2.1-b17", "0012345"},
		{"OBX-18 entity id only", "MSH|^~\\&|HBA1C-NOW|LAB|CLINICBOX|C|20250314113005||ORU^R01|2|P|2.5.1\r" + obr +
			"OBX|1|NM|4548-4^HbA1c^LN||6.8|%|||||F|||||||A1CNOW-77^HBA1C-NOW\r", "", "A1CNOW-77"},
		{"first OBX with equipment wins", "MSH|^~\\&|X|LAB|CLINICBOX|C|20250314113005||ORU^R01|3|P|2.5.1\r" + obr +
			"OBX|1|NM|A^A^L||1||||||F\rOBX|2|NM|B^B^L||2||||||F|||||||DEV-2\r", "", "DEV-2"},
		{"MSH-3 with an identifier type (IHE PCD)", "MSH|^~\\&|GLUCOSCAN^0012345^EUI-64|WARD|CLINICBOX|C|20250314101530||ORU^R01|4|P|2.5.1\r" +
			obr + "OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L|||||F\r", "", "0012345"},
		{"MSH-3 application name is no serial", "MSH|^~\\&|MIDDLEWARE^1.2.3|LAB|CLINICBOX|C|20250314101530||ORU^R01|5|P|2.5.1\r" +
			obr + "OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L|||||F\r", "", ""},
		{"nothing reported", "MSH|^~\\&|X|LAB|CLINICBOX|C|20250314101530||ORU^R01|6|P|2.3\r" + obr +
			"OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L|||||F\r", "", ""},
	}
	for _, c := range cases {
		m, err := hl7.Parse([]byte(c.msg))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		msh, _ := m.MSH()
		fw, sn := hl7DeviceIdentity(m, msh)
		if fw != c.firmware || sn != c.sern {
			t.Errorf("%s: firmware %q serial %q, want %q %q", c.name, fw, sn, c.firmware, c.sern)
		}
	}
}

// TestHL7IdentityOnDevice: ingesting the PCD glucose sample puts the
// meter's serial number (OBX-18) and a later message's firmware (SFT) on
// the device as the fleet shows it; a message without them keeps both.
func TestHL7IdentityOnDevice(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	org := storetest.Org(t, st, "C", "c")
	dev := storetest.Device(t, st, org.ID, &store.Device{Name: "GlucoScan", Protocol: "hl7", TCPAddr: "127.0.0.1:2575"})
	pcd, err := sim.Sample("poct-glucose-oru.hl7")
	if err != nil {
		t.Fatal(err)
	}
	withSFT := strings.Replace(string(pcd), "\rPID|", "\rSFT|Acme^L|3.1.0|GlucoScan|310\rPID|", 1)
	withSFT = strings.Replace(withSFT, "GS20250314-0042", "GS20250314-0043", 1)
	plain := "MSH|^~\\&|X|LAB|CLINICBOX|C|20250314101530||ORU^R01|7|P|2.3\rOBR|1|O-9|F-9|2345-7^Glucose^LN\r" +
		"OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L|||||F\r"
	for i, raw := range []string{string(pcd), withSFT, plain} {
		m := &store.DeviceMessage{DeviceID: dev.ID, Protocol: "hl7", Raw: []byte(raw)}
		if err := st.SaveDeviceMessage(ctx, org.ID, m); err != nil {
			t.Fatal(err)
		}
		if _, err := Reingest(ctx, st, org.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		fd, err := st.FleetDevice(ctx, org.ID, dev.UUID)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ fw, sn string }{{"", "0012345"}, {"3.1.0", "0012345"}, {"3.1.0", "0012345"}}[i]
		if fd.Status.Firmware != want.fw || fd.Status.SerialNumber != want.sn {
			t.Fatalf("after message %d: firmware %q serial %q, want %q %q", i+1, fd.Status.Firmware, fd.Status.SerialNumber, want.fw, want.sn)
		}
	}
}

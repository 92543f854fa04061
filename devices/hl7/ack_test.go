package hl7_test

import (
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
)

func TestNewACK(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 15, 31, 0, time.FixedZone("", 3600))
	tests := []struct {
		name  string
		orig  string
		code  hl7.AckCode
		text  string
		ackID string
		want  string
	}{
		{
			name:  "accept",
			orig:  "MSH|^~\\&|GLUCOSCAN^0012345^EUI-64|WARD3|CLINICBOX|CLINIC-A|20250314101530||ORU^R01^ORU_R01|GS-42|P|2.5.1\rPID|1\r",
			code:  hl7.AA,
			ackID: "ACK-1",
			want:  "MSH|^~\\&|CLINICBOX|CLINIC-A|GLUCOSCAN^0012345^EUI-64|WARD3|20250314101531+0100||ACK^R01^ACK|ACK-1|P|2.5.1\rMSA|AA|GS-42\r",
		},
		{
			name:  "error with escaped text, custom separators",
			orig:  "MSH#*@!%#DEV##HOST##2025##OUL*R22#C|7#T#2.5\r",
			code:  hl7.AE,
			text:  "unknown patient #12 * check",
			ackID: "A2",
			want:  "MSH#*@!%#HOST##DEV##20250314101531+0100##ACK*R22*ACK#A2#T#2.5\rMSA#AE#C|7#unknown patient !F!12 !S! check\r",
		},
		{
			name:  "reject unparseable",
			code:  hl7.AR,
			text:  "not HL7",
			ackID: "A3",
			want:  "MSH|^~\\&|||||20250314101531+0100||ACK|A3|P|2.5.1\rMSA|AR||not HL7\r",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var orig *hl7.Message
			if tt.orig != "" {
				var err error
				if orig, err = hl7.Parse([]byte(tt.orig)); err != nil {
					t.Fatal(err)
				}
			}
			got := string(hl7.NewACK(orig, tt.code, tt.text, tt.ackID, now))
			if got != tt.want {
				t.Fatalf("ACK =\n%q\nwant\n%q", got, tt.want)
			}
			back, err := hl7.Parse([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			code, id, ok := hl7.AckOf(back)
			if !ok || code != tt.code {
				t.Errorf("AckOf = %q %q %v", code, id, ok)
			}
			if orig != nil {
				h, _ := orig.MSH()
				if id != h.ControlID {
					t.Errorf("acknowledged id %q, want %q", id, h.ControlID)
				}
			}
		})
	}
}

package billingcsv

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestWrite(t *testing.T) {
	months := []store.BillingMonth{
		{Month: "2026-12", Enrollment: store.Enrollment{UUID: "e1", PatientUUID: "p1", Program: store.ProgramRPM},
			PatientName: " =HYPERLINK(\"x\") ", PatientMRN: "+45", ReadingDays: 16, Minutes: 25, Interactive: true,
			Lines: []store.BillingLine{{Code: store.CPTSupply, Units: 1}, {Code: store.CPTManage, Units: 1}}},
		{Month: "2026-12", Enrollment: store.Enrollment{UUID: "e2", PatientUUID: "p2", Program: store.ProgramRPM},
			PatientName: "Åse Ægidius", ReadingDays: 1}, // nothing billable: no rows
	}
	var buf bytes.Buffer
	if err := Write(&buf, months); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		Header,
		{"2026-12", "enr_e1", "patient_p1", "'=HYPERLINK(\"x\")", "'+45", "RPM", store.CPTSupply, "1", "16", "25", "true"},
		{"2026-12", "enr_e1", "patient_p1", "'=HYPERLINK(\"x\")", "'+45", "RPM", store.CPTManage, "1", "16", "25", "true"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %q", len(rows), len(want), rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: got %q, want %q", i, rows[i], want[i])
		}
	}
}

func TestSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"Hansen", "Hansen"}, {"=1+1", "'=1+1"}, {"+45 20", "'+45 20"}, {"-3", "'-3"}, {"@SUM", "'@SUM"},
		{"\tx", "'\tx"}, {"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := Safe(tt.in); got != tt.want {
			t.Errorf("Safe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

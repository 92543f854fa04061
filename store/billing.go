package store

import (
	"context"
	"fmt"
	"time"
)

// Remote monitoring billing, as the CPT rules stand in 2026. The billing
// period is the calendar month (UTC); a "day of data" is a UTC day with at
// least one reading from a device (manual and patient-reported readings do
// not count: the codes pay for device-supplied data).
const (
	CPTSetup          = "99453" // set-up and education, once per episode, 2+ days of data
	CPTSupplyShort    = "99445" // device supply, 2-15 days of data in the period
	CPTSupply         = "99454" // device supply, 16-30 days of data in the period
	CPTManageShort    = "99470" // first 10 minutes of management, interactive communication
	CPTManage         = "99457" // first 20 minutes of management, interactive communication
	CPTManageAddition = "99458" // each further 20 minutes
)

// BillingMonth is what one enrollment did in one month: the facts the codes
// are decided on.
type BillingMonth struct {
	Enrollment   Enrollment
	PatientName  string
	PatientMRN   string
	Month        string // YYYY-MM
	ReadingDays  int    // days with device data in the month (within the enrollment)
	SetupMonth   string // month of the episode's second day of data ("" until it has two)
	DaysToSetup  int    // days of data the episode has so far (up to 2)
	Minutes      int    // whole minutes of management time logged in the month
	Interactive  bool   // at least one interactive communication in the month
	Lines        []BillingLine
	Requirements []Requirement
}

// BillingLine is one billable code.
type BillingLine struct {
	Code  string
	Units int
}

// Requirement says whether a code is met this month and, if not, what is
// missing ("9 more days of readings", "6 more minutes").
type Requirement struct {
	Code    string
	Met     bool
	Missing string
}

// ParseMonth parses YYYY-MM into the month's first instant and the next
// month's.
func ParseMonth(month string) (time.Time, time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, time.Time{}, Invalid("month", "must be a month as YYYY-MM")
	}
	return t, t.AddDate(0, 1, 0), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func moreDays(n int) string    { return plural(n, "more day of readings", "more days of readings") }
func moreMinutes(n int) string { return plural(n, "more minute", "more minutes") }

// Decide applies the rules to the month's facts, filling Lines and
// Requirements.
func (b *BillingMonth) Decide() {
	b.Lines, b.Requirements = nil, nil
	if b.Enrollment.Program != ProgramRPM {
		b.Requirements = append(b.Requirements, Requirement{Code: "-", Missing: "billing codes are computed for RPM enrollments only"})
		return
	}
	line := func(code string, units int) { b.Lines = append(b.Lines, BillingLine{code, units}) }
	req := func(code string, met bool, missing string) {
		if met {
			missing = ""
		}
		b.Requirements = append(b.Requirements, Requirement{code, met, missing})
	}

	// 99453: once per episode, in the month its second day of data falls.
	switch {
	case b.SetupMonth == b.Month:
		line(CPTSetup, 1)
		req(CPTSetup, true, "")
	case b.SetupMonth != "" && b.SetupMonth < b.Month:
		req(CPTSetup, false, "billed once per episode, in "+b.SetupMonth)
	default:
		req(CPTSetup, false, moreDays(2-b.DaysToSetup))
	}

	// Device supply: 99454 for 16-30 days, else 99445 for 2-15, never both.
	switch {
	case b.ReadingDays >= 16:
		line(CPTSupply, 1)
		req(CPTSupply, true, "")
		req(CPTSupplyShort, false, "not billed with 99454")
	case b.ReadingDays >= 2:
		line(CPTSupplyShort, 1)
		req(CPTSupply, false, moreDays(16-b.ReadingDays))
		req(CPTSupplyShort, true, "")
	default:
		req(CPTSupply, false, moreDays(16-b.ReadingDays))
		req(CPTSupplyShort, false, moreDays(2-b.ReadingDays))
	}

	// Management time: 99457 from 20 minutes, else 99470 from 10, never
	// both; both need an interactive communication. 99458 for each further
	// full 20 minutes.
	const noTalk = "an interactive communication with the patient"
	m := b.Minutes
	switch {
	case m >= 20 && b.Interactive:
		line(CPTManage, 1)
		req(CPTManage, true, "")
		req(CPTManageShort, false, "not billed with 99457")
	case m >= 10 && b.Interactive:
		line(CPTManageShort, 1)
		req(CPTManage, false, moreMinutes(20-m))
		req(CPTManageShort, true, "")
	default:
		missing := func(need int) string {
			var parts []string
			if m < need {
				parts = append(parts, moreMinutes(need-m))
			}
			if !b.Interactive {
				parts = append(parts, noTalk)
			}
			return joinAnd(parts)
		}
		req(CPTManage, false, missing(20))
		req(CPTManageShort, false, missing(10))
	}
	if m >= 40 && b.Interactive {
		line(CPTManageAddition, (m-20)/20)
		req(CPTManageAddition, true, "")
	} else {
		var parts []string
		if m < 40 {
			parts = append(parts, moreMinutes(40-m))
		}
		if !b.Interactive {
			parts = append(parts, noTalk)
		}
		req(CPTManageAddition, false, joinAnd(parts))
	}
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return parts[0] + " and " + parts[1]
}

// EnrollmentBilling computes one enrollment's month (by public id).
func (s *Store) EnrollmentBilling(ctx context.Context, orgID int64, enrollmentUUID, month string) (*BillingMonth, error) {
	from, to, err := ParseMonth(month)
	if err != nil {
		return nil, err
	}
	e, err := s.Enrollment(ctx, orgID, enrollmentUUID)
	if err != nil {
		return nil, err
	}
	return s.billingMonth(ctx, orgID, e, month, from, to)
}

// BillingSummary computes every enrollment that overlaps the month.
func (s *Store) BillingSummary(ctx context.Context, orgID int64, month string) ([]BillingMonth, error) {
	from, to, err := ParseMonth(month)
	if err != nil {
		return nil, err
	}
	var out []BillingMonth
	var after int64
	for {
		es, err := s.Enrollments(ctx, orgID, EnrollmentFilter{AfterID: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for i := range es {
			e := &es[i]
			if e.StartDate >= to.Format(time.DateOnly) || e.EndDate != "" && e.EndDate < from.Format(time.DateOnly) {
				continue
			}
			b, err := s.billingMonth(ctx, orgID, e, month, from, to)
			if err != nil {
				return nil, err
			}
			out = append(out, *b)
		}
		if len(es) < 500 {
			return out, nil
		}
		after = es[len(es)-1].ID
	}
}

func (s *Store) billingMonth(ctx context.Context, orgID int64, e *Enrollment, month string, from, to time.Time) (*BillingMonth, error) {
	b := &BillingMonth{Enrollment: *e, Month: month}
	start, _ := time.Parse(time.DateOnly, e.StartDate)
	end := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if e.EndDate != "" {
		end, _ = time.Parse(time.DateOnly, e.EndDate)
		end = end.AddDate(0, 0, 1)
	}
	lo, hi := later(from, start), earlier(to, end)
	err := s.r.QueryRowContext(ctx, `SELECT first_name || ' ' || last_name, mrn FROM patients WHERE org_id = ? AND id = ?`,
		orgID, e.PatientID).Scan(&b.PatientName, &b.PatientMRN)
	if err != nil {
		return nil, fmt.Errorf("billing patient: %w", err)
	}
	const days = `SELECT DISTINCT measured_at / 86400 AS day FROM observations
		WHERE org_id = ? AND patient_id = ? AND source = 'monitoring:device' AND metric_key IS NOT NULL
			AND measured_at >= ? AND measured_at < ?`
	if lo.Before(hi) {
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+days+`)`, orgID, e.PatientID, unix(lo), unix(hi)).Scan(&b.ReadingDays); err != nil {
			return nil, fmt.Errorf("billing days: %w", err)
		}
	}
	b.ReadingDays = min(b.ReadingDays, 30)
	rows, err := s.r.QueryContext(ctx, days+` ORDER BY day LIMIT 2`, orgID, e.PatientID, unix(start), unix(earlier(to, end)))
	if err != nil {
		return nil, fmt.Errorf("billing setup: %w", err)
	}
	var firstDays []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, err
		}
		firstDays = append(firstDays, d)
	}
	rows.Close()
	b.DaysToSetup = len(firstDays)
	if len(firstDays) == 2 {
		b.SetupMonth = time.Unix(firstDays[1]*86400, 0).UTC().Format("2006-01")
	}
	var secs int64
	err = s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(seconds), 0), COALESCE(MAX(interactive), 0) FROM time_entries
		WHERE org_id = ? AND enrollment_id = ? AND started_at >= ? AND started_at < ?`, orgID, e.ID, unix(from), unix(to)).
		Scan(&secs, &b.Interactive)
	if err != nil {
		return nil, fmt.Errorf("billing time: %w", err)
	}
	b.Minutes = int(secs / 60)
	b.Decide()
	return b, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WalkIn is a patient who arrives without an appointment: found by MRN (or
// created), checked in to a waiting room with a fresh visit, with the
// answers they gave on arrival.
type WalkIn struct {
	MRN       string
	FirstName string
	LastName  string
	BirthDate string // YYYY-MM-DD
	// WaitingRoomID is the room the visit is created in.
	WaitingRoomID int64
	Reason        string
	// NotAgainWithin refuses (ErrRecentVisit) a second visit for a known
	// patient created less than this long ago; 0 allows it.
	NotAgainWithin time.Duration
	// Notes are visit-note answers, each for a template by name, written
	// in order.
	Notes []WalkInNote
}

// WalkInNote is the answers to one visit-note template.
type WalkInNote struct {
	Template string
	Answers  []VisitNoteAnswer
}

// ErrRecentVisit: the patient already has a visit within the walk-in's
// NotAgainWithin window. errors.Is(err, ErrConflict) holds.
var ErrRecentVisit error = &ConflictError{Msg: "a visit has already been created for the patient recently"}

// CheckInWalkIn does the whole walk-in in one transaction: the duplicate
// check and the visit it allows commit together, so two identical requests
// cannot both pass, and a failure half-way leaves nothing behind. A known
// patient's first and last name and birth date are updated to what they
// gave.
func (s *Store) CheckInWalkIn(ctx context.Context, orgID int64, in WalkIn) (*Patient, *Appointment, error) {
	var patient *Patient
	var appt *Appointment
	err := s.write(ctx, func(tx *txn) error {
		p, err := patientByTx(ctx, tx, orgID, ByMRN, in.MRN)
		switch {
		case errors.Is(err, ErrNotFound):
			p = &Patient{MRN: in.MRN, BirthDate: in.BirthDate, Active: true}
			p.setFirstLast(in.FirstName, in.LastName)
			if err := createPatientTx(tx, orgID, p); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if in.NotAgainWithin > 0 {
				dup, err := hasRecentAppointmentTx(tx, orgID, p.ID, tx.Now.Add(-in.NotAgainWithin))
				if err != nil {
					return err
				}
				if dup {
					return ErrRecentVisit
				}
			}
			p, err = updatePatientTx(ctx, tx, orgID, ByID, strconv.FormatInt(p.ID, 10), func(p *Patient) error {
				p.setFirstLast(in.FirstName, in.LastName)
				p.BirthDate = in.BirthDate
				return nil
			})
			if err != nil {
				return err
			}
		}
		a := &Appointment{WaitingRoomID: in.WaitingRoomID, Reasons: []string{in.Reason}, PatientID: p.ID}
		if err := createAppointmentTx(ctx, tx, orgID, a); err != nil {
			return err
		}
		for _, n := range in.Notes {
			if len(n.Answers) == 0 {
				continue
			}
			if err := setVisitNoteAnswersTx(ctx, tx, orgID, a.ID, n.Template, n.Answers); err != nil {
				return err
			}
		}
		patient, appt = p, a
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return patient, appt, nil
}

// setFirstLast sets the first and last name of the patient's shown name,
// keeping its other parts and any further names.
func (p *Patient) setFirstLast(first, last string) {
	if len(p.Names) == 0 {
		p.Names = []HumanName{{Use: "usual"}}
	}
	n := &p.Names[0]
	n.FirstName, n.LastName = first, last
	// The full name is derived; when both parts are long it would exceed the
	// bound each part keeps, so it is left empty rather than cut (the
	// faces then show first and last name).
	n.Family = strings.TrimSpace(first + " " + last)
	if utf8.RuneCountInString(n.Family) > MaxNamePart {
		n.Family = ""
	}
}

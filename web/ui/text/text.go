package text

import (
	"context"
	"reflect"
	"strconv"

	"github.com/clinicbox/clinicbox/web/i18n"
)

// Strings is one language's wording of the pages.
type Strings struct {
	Lang    string // BCP 47 tag for <html lang>
	AppName string

	// Navigation and layout.
	NavBoard, NavAppointments, NavPatients, NavStations, NavAdmin string
	NavLabel, SkipToContent, SignedInAs, SignOut                  string
	Previous, Next, PaginationLabel                               string
	PageOf                                                        func(page, pages, total int) string
	Required, Optional, Save, Cancel, Back, Edit                  string
	Search, Yes, No, Unknown, None                                string
	FormHasErrors                                                 string
	NotFound, Forbidden, InternalError                            string

	// Sign-in.
	SignInTitle, Email, Password, SignIn, BadCredentials string
	SignOutEverywhere, SignedOutEverywhere, SignedOut    string
	AccountLocked                                        func(until string) string
	TooManyAttempts                                      func(minutes int) string
	SignInWait                                           func(seconds int) string

	// Board.
	BoardTitle, BoardDate, BoardShow, BoardLiveOn, BoardLiveOff, BoardNoRooms string
	BoardNoAppointments, BoardNoAppointmentsHint                              string
	GroupScheduled, GroupArrived, GroupInProgress, GroupDischarge             string
	GroupDone, GroupCancelled, GroupEmpty                                     string
	ActMarkArrived, ActStartIntake, ActStartExam, ActDischarge, ActComplete   string
	ActNoShow, ActCancel, ActOpenPatient, ActEditAppointment                  string
	NoProvider, StatusChanged, BoardUpdated                                   string
	StatusLabel                                                               map[string]string
	AppointmentsCount                                                         func(n int) string

	// Appointments.
	AppointmentsTitle, NewAppointment, EditAppointment, AppointmentCreated, AppointmentSaved string
	AppointmentCancelled, AppointmentsEmpty, AppointmentsEmptyHint, WaitingRoom, AllRooms    string
	Patient, PatientSearch, PatientSearchHint, ChoosePatient, NoPatientsFound, Date, Time    string
	DurationMinutes, DurationHint, Reasons, ReasonsHint, Provider, Status, Start, Actions    string
	TimeZoneNote                                                                             func(tz string) string
	DateInvalid, TimeInvalid, DurationInvalid, PatientRequired, RoomRequired                 string

	// Patients.
	PatientsTitle, NewPatient, EditPatient, PatientCreated, PatientSaved, PatientsEmpty   string
	PatientsEmptyHint, PatientsNoMatch, SearchPatientsLabel, SearchPatientsHint           string
	FirstName, MiddleName, LastName, BirthDate, Gender, MRN, NationalID, HSID, ExternalID string
	Phone, AddressLine, City, PostalCode, Country, Active, Demographics, Identifiers      string
	Contact, PatientAppointments, Upcoming, Past, Observations, ObservationsEmpty         string
	Files, FilesEmpty, Received, FileName, FileTitle, FileSize                            string
	NoAppointments, Code, Value, Unit, ReferenceRange, Flags, Measured, Source, Device    string
	NameRequired, BookAppointment, Name, Language, Deceased                               string
	GenderLabel                                                                           map[string]string
	PatientsFound                                                                         func(n int) string

	// Admin.
	AdminTitle, AdminUsers, AdminRooms, AdminAudit, AdminUsersHint, AdminRoomsHint, AdminAuditHint string
	AdminAPIKeys, AdminAPIKeysHint, AdminWebhooks, AdminWebhooksHint                               string
	AdminLinking, AdminLinkingHint, AdminLocations, AdminLocationsHint                             string
	AdminDevices, AdminDevicesHint, AdminInstrumentClients, AdminInstrumentClientsHint             string
	AdminPOCT, AdminPOCTHint                                                                       string
	NewUser, EditUser, Role, InitialPassword, InitialPasswordHint, UserCreated, UserSaved          string
	GeneratedPassword, GeneratedPasswordHint, ResetPassword, NewPassword, PasswordReset            string
	UserSignedOutEverywhere, LastSignIn, Never, UsersEmpty, Inactive                               string
	NewRoom, EditRoom, RoomCreated, RoomSaved, ServiceLine, ServiceType, SlotMinutes, TimeZone     string
	OpeningHours, Weekday, Opens, Closes, ClosedHint, RoomsEmpty, HoursInvalid                     string
	AuditChainIntact, AuditChainEmpty, AuditFilterPatient, AuditFilterUser, AuditFilter            string
	AuditWhen, AuditActor, AuditAction, AuditEntity, AuditDetail, AuditFrom, AuditEmpty, Older     string
	AnyUser                                                                                        string
	AuditChainBroken                                                                               func(id int64) string
	RoleLabel                                                                                      map[string]string
	WeekdayName                                                                                    [7]string
}

// T is the wording in ctx's language.
func T(ctx context.Context) *Strings { return byLang[i18n.Lang(ctx)] }

// For is the wording of a language ("en", "da").
func For(lang string) *Strings { return byLang[i18n.Normalize(lang)] }

var byLang = map[string]*Strings{}

func init() {
	for _, l := range i18n.Supported {
		byLang[l] = build(l)
	}
}

// build fills a Strings from the catalogue of lang.
func build(lang string) *Strings {
	s := &Strings{}
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(i18n.In(lang, name))
		case reflect.Array:
			for j := 0; j < f.Len(); j++ {
				f.Index(j).SetString(i18n.In(lang, name+"."+strconv.Itoa(j)))
			}
		}
	}
	label := func(field string, keys ...string) map[string]string {
		m := make(map[string]string, len(keys))
		for _, k := range keys {
			id := k
			if id == "" {
				id = "none"
			}
			m[k] = i18n.In(lang, field+"."+id)
		}
		return m
	}
	s.StatusLabel = label("StatusLabel", "scheduled", "arrived", "in progress.intake.ready", "in progress.intake.progress",
		"in progress.exam.ready", "in progress.exam.progress", "discharge.ready", "discharge.progress", "completed",
		"sign off", "cancelled", "not showed up")
	s.GenderLabel = label("GenderLabel", "", "male", "female", "other", "unknown")
	s.RoleLabel = label("RoleLabel", "admin", "clinician", "frontdesk")
	ctx := i18n.WithLang(context.Background(), lang)
	s.PageOf = func(page, pages, total int) string {
		return i18n.T(ctx, "PageOf", "Page", page, "Pages", pages, "Total", total)
	}
	s.AccountLocked = func(until string) string { return i18n.T(ctx, "AccountLocked", "Until", until) }
	s.TooManyAttempts = func(minutes int) string { return i18n.T(ctx, "TooManyAttempts", "Minutes", minutes) }
	s.SignInWait = func(seconds int) string { return i18n.T(ctx, "SignInWait", "Seconds", seconds) }
	s.AppointmentsCount = func(n int) string { return i18n.N(ctx, "AppointmentsCount", n) }
	s.PatientsFound = func(n int) string { return i18n.N(ctx, "PatientsFound", n) }
	s.TimeZoneNote = func(tz string) string { return i18n.T(ctx, "TimeZoneNote", "Zone", tz) }
	s.AuditChainBroken = func(id int64) string { return i18n.T(ctx, "AuditChainBroken", "ID", id) }
	return s
}

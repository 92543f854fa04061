// Package text holds every user-visible English string of the clinician
// pages in one place, so that a translation (Danish first) is one more
// value of Strings rather than a hunt through templates.
//
// Pages read the strings through T (text.T.BoardTitle). Strings with
// arguments are functions of them, so word order can change per language.
package text

import "fmt"

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

// T is the strings the pages use now.
var T = English

// English is the pages' English wording.
var English = Strings{
	Lang:    "en",
	AppName: "Clinicbox",

	NavBoard: "Board", NavAppointments: "Appointments", NavPatients: "Patients", NavStations: "Stations", NavAdmin: "Admin",
	NavLabel: "Main", SkipToContent: "Skip to content", SignedInAs: "Signed in as", SignOut: "Sign out",
	Previous: "Previous", Next: "Next", PaginationLabel: "Pages",
	PageOf: func(page, pages, total int) string {
		return fmt.Sprintf("Page %d of %d (%d in all)", page, pages, total)
	},
	Required: "required", Optional: "optional", Save: "Save", Cancel: "Cancel", Back: "Back", Edit: "Edit",
	Search: "Search", Yes: "Yes", No: "No", Unknown: "Unknown", None: "None",
	FormHasErrors: "Please correct the fields marked below.",
	NotFound:      "Not found.", Forbidden: "Your role may not open this page.",
	InternalError: "Something went wrong on our side. Please try again.",

	SignInTitle: "Sign in", Email: "Email", Password: "Password", SignIn: "Sign in",
	BadCredentials:    "Wrong email or password.",
	SignOutEverywhere: "Sign out everywhere", SignedOutEverywhere: "You have been signed out on every device.",
	SignedOut: "You have been signed out.",
	AccountLocked: func(until string) string {
		return "Too many failed sign-in attempts. Try again after " + until + "."
	},
	TooManyAttempts: func(minutes int) string {
		return fmt.Sprintf("Too many failed sign-in attempts from this computer. Try again in %d minutes.", minutes)
	},

	BoardTitle: "Waiting-room board", BoardDate: "Day", BoardShow: "Show",
	BoardLiveOn: "Live: the board updates by itself.", BoardLiveOff: "Not live: reload the page to see changes.",
	BoardNoRooms:        "There are no waiting rooms yet. An administrator can add one under Admin.",
	BoardNoAppointments: "No appointments this day.", BoardNoAppointmentsHint: "Book one from Appointments.",
	GroupScheduled: "Scheduled", GroupArrived: "Arrived / waiting", GroupInProgress: "In progress",
	GroupDischarge: "Discharge", GroupDone: "Done", GroupCancelled: "Cancelled / no-show", GroupEmpty: "None",
	ActMarkArrived: "Mark arrived", ActStartIntake: "Start intake", ActStartExam: "Start exam",
	ActDischarge: "Discharge", ActComplete: "Complete", ActNoShow: "No-show", ActCancel: "Cancel",
	ActOpenPatient: "Patient", ActEditAppointment: "Edit",
	NoProvider: "No provider", StatusChanged: "Status changed.", BoardUpdated: "Board updated.",
	StatusLabel: map[string]string{
		"scheduled": "Scheduled", "arrived": "Arrived", "in progress.intake.ready": "Ready for intake",
		"in progress.intake.progress": "In intake", "in progress.exam.ready": "Ready for exam",
		"in progress.exam.progress": "In exam", "discharge.ready": "Ready for discharge",
		"discharge.progress": "Being discharged", "completed": "Completed", "sign off": "Signed off",
		"cancelled": "Cancelled", "not showed up": "No-show",
	},
	AppointmentsCount: func(n int) string {
		if n == 1 {
			return "1 appointment"
		}
		return fmt.Sprintf("%d appointments", n)
	},

	AppointmentsTitle: "Appointments", NewAppointment: "New appointment", EditAppointment: "Reschedule appointment",
	AppointmentCreated: "Appointment booked.", AppointmentSaved: "Appointment saved.",
	AppointmentCancelled: "Appointment cancelled.", AppointmentsEmpty: "No appointments this day.",
	AppointmentsEmptyHint: "Choose another day or book a new appointment.",
	WaitingRoom:           "Waiting room", AllRooms: "All waiting rooms",
	Patient: "Patient", PatientSearch: "Find patient", PatientSearchHint: "Name, MRN or another identifier",
	ChoosePatient: "Choose a patient", NoPatientsFound: "No patients match.",
	Date: "Date", Time: "Time", DurationMinutes: "Duration (minutes)",
	DurationHint: "Leave empty for the waiting room's slot length.",
	Reasons:      "Reasons", ReasonsHint: "One per line.", Provider: "Provider", Status: "Status",
	Start: "Start", Actions: "Actions",
	TimeZoneNote: func(tz string) string { return "Times are in the waiting room's time zone (" + tz + ")." },
	DateInvalid:  "must be a date as YYYY-MM-DD", TimeInvalid: "must be a time as HH:MM",
	DurationInvalid: "must be a whole number of minutes between 1 and 1440",
	PatientRequired: "choose a patient", RoomRequired: "choose a waiting room",

	PatientsTitle: "Patients", NewPatient: "New patient", EditPatient: "Edit patient",
	PatientCreated: "Patient created.", PatientSaved: "Patient saved.", PatientsEmpty: "No patients yet.",
	PatientsEmptyHint: "Create the first patient to book appointments.", PatientsNoMatch: "No patients match your search.",
	SearchPatientsLabel: "Search patients", SearchPatientsHint: "Name, MRN, national id or other identifier",
	FirstName: "First name", MiddleName: "Middle name", LastName: "Last name", BirthDate: "Date of birth",
	Gender: "Gender", MRN: "MRN", NationalID: "National id (CPR)", HSID: "Health system id", ExternalID: "External id",
	Phone: "Phone", AddressLine: "Address", City: "City", PostalCode: "Postal code", Country: "Country",
	Active: "Active", Demographics: "Demographics", Identifiers: "Identifiers", Contact: "Contact",
	PatientAppointments: "Appointments", Upcoming: "Upcoming", Past: "Past", Observations: "Observations",
	ObservationsEmpty: "No observations recorded for this patient.",
	Files:             "Files", FilesEmpty: "No files for this patient.", Received: "Received", FileName: "File",
	FileTitle: "Measurement", FileSize: "Size", NoAppointments: "No appointments.",
	Code: "Code", Value: "Value", Unit: "Unit", ReferenceRange: "Reference range", Flags: "Flags",
	Measured: "Measured", Source: "Source", Device: "Device",
	NameRequired: "a first or last name is required", BookAppointment: "Book appointment", Name: "Name",
	Language: "Preferred language", Deceased: "Deceased",
	GenderLabel: map[string]string{"": "Not stated", "male": "Male", "female": "Female", "other": "Other", "unknown": "Unknown"},
	PatientsFound: func(n int) string {
		if n == 1 {
			return "1 patient"
		}
		return fmt.Sprintf("%d patients", n)
	},

	AdminTitle: "Administration", AdminUsers: "Users", AdminRooms: "Waiting rooms", AdminAudit: "Audit log",
	AdminUsersHint: "Staff accounts, roles and passwords.", AdminRoomsHint: "Slots, time zones and opening hours.",
	AdminAuditHint: "Who read or changed what, and whether the log is intact.",
	AdminDevices:   "Instruments", AdminDevicesHint: "Serial and network instruments, their live state and raw message log.",
	AdminInstrumentClients: "Instrument API clients", AdminInstrumentClientsHint: "Credentials for instrument vendors' software.",
	AdminAPIKeys: "API keys", AdminAPIKeysHint: "Keys for the telehealth API: issue, see last use, revoke.",
	AdminWebhooks: "Webhooks", AdminWebhooksHint: "Where events are delivered, and the delivery log.",
	AdminLinking: "Context-aware linking", AdminLinkingHint: "The secret that EHR links are encrypted with.",
	AdminLocations: "Locations and care locations", AdminLocationsHint: "Geolocations, rooms and beds, devices, report presets.",
	NewUser: "New user", EditUser: "Edit user", Role: "Role", InitialPassword: "Initial password",
	InitialPasswordHint: "At least 10 characters. Leave empty to generate one.",
	UserCreated:         "User created.", UserSaved: "User saved.",
	GeneratedPassword:     "Generated password",
	GeneratedPasswordHint: "Give it to the user now: it is shown only once.",
	ResetPassword:         "Reset password", NewPassword: "New password", PasswordReset: "Password reset; the user is signed out everywhere.",
	UserSignedOutEverywhere: "The user is signed out everywhere.", LastSignIn: "Last sign-in", Never: "never",
	UsersEmpty: "No users.", Inactive: "inactive",
	NewRoom: "New waiting room", EditRoom: "Edit waiting room", RoomCreated: "Waiting room created.",
	RoomSaved: "Waiting room saved.", ServiceLine: "Service line", ServiceType: "Service type",
	SlotMinutes: "Slot length (minutes)", TimeZone: "Time zone", OpeningHours: "Opening hours",
	Weekday: "Day", Opens: "Opens", Closes: "Closes", ClosedHint: "Leave both empty when closed.",
	RoomsEmpty: "No waiting rooms yet.", HoursInvalid: "opening must be HH:MM before closing HH:MM",
	AuditChainIntact: "The audit log's hash chain is intact.", AuditChainEmpty: "The audit log is empty.",
	AuditFilterPatient: "Patient id", AuditFilterUser: "User", AuditFilter: "Filter",
	AuditWhen: "When", AuditActor: "Who", AuditAction: "Action", AuditEntity: "What", AuditDetail: "Detail",
	AuditFrom: "From", AuditEmpty: "No audit rows match.", Older: "Older", AnyUser: "Any user",
	AuditChainBroken: func(id int64) string {
		return fmt.Sprintf("The audit log's hash chain is BROKEN at row %d: rows were changed or removed.", id)
	},
	RoleLabel:   map[string]string{"admin": "Administrator", "clinician": "Clinician", "frontdesk": "Front desk"},
	WeekdayName: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

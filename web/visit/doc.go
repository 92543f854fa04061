// Package visit serves the patient-facing visit pages: a visit link carries
// a random token bound to one appointment and one role (patient or
// provider). There are no accounts; the token is the credential.
package visit

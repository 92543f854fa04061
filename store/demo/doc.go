// Package demo seeds a demo clinic: one organisation, two waiting rooms,
// staff, about thirty patients and a day of appointments in every status, so
// a first look at the board shows a real day.
package demo

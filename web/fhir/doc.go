// Package fhir is the FHIR R4 face (/fhir/R4): the one clinic model in store
// read and written as FHIR resources, for EHRs and the eHealth
// infrastructure. Clients authenticate with OAuth2 client credentials (SMART
// backend services style); every error is an OperationOutcome.
package fhir

// Package instrument is the instrument integrations API face
// (/api/v1/integrationAuth, instrumentPatients, instrumentResults), as
// documented in shared/specs/instrument-integrations-api.txt: instrument
// vendors' software (ECG, spirometry) lists the patients with appointments
// and posts measurement results, which land in the one observations model.
//
// Authentication is client credentials: POST integrationAuth answers an
// access token valid for 10 minutes, which is sent as the raw Authorization
// header. The spec documents no error shape; this face answers errors as
// {"error":{"message":"...","fields":{"name":"problem"}}} (fields only for
// invalid input), with 400 for bad input, 401 for missing, wrong or expired
// credentials, 404 for an unknown patient, 413 for a body or file over the
// limits and 500 for the appliance's own faults.
package instrument

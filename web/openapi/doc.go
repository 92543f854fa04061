// Package openapi builds the OpenAPI 3.1 documents the API faces publish
// (telehealth, remote monitoring, point of care) from their route tables,
// so a document cannot list a route the face does not serve, and the
// faces share one way to write paths, parameters, operation ids and
// schemas. Each face still says what only it knows: query parameters,
// bodies, statuses, security and its error schema.
package openapi

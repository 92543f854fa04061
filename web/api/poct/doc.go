// Package poct is the point-of-care results feed (/api/poct/v1/...), after
// shared/specs/poct-connectivity-catenix-api.txt, which names resources but
// not paths: patients, encounters, orders, results, devices and fleet
// status, QC, documents and webhooks. Everything is carried verbatim: the
// value, unit, reference range, status and flags are the strings the
// analyser sent. Nothing here interprets a result or raises a clinical
// alert; QC rules judge the measurement process only.
package poct

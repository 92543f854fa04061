// Package poctwire is the point-of-care face's wire format for the objects
// its webhooks carry too (results, orders, devices, QC runs): the face's
// answers and the webhook worker's payloads share one mapping, so a
// webhook body is exactly what GET of the same object answers. It depends
// on the model only, so the webhook worker, which sits below the faces,
// can use it without importing the face.
package poctwire

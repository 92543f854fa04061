package monitoring

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Wire ids are the model's public uuids behind a prefix that names the kind
// ("patient_3f2c…"). An id with the wrong prefix is simply not found.
const (
	prefixOrg        = "org_"
	prefixUser       = "user_"
	prefixPatient    = "patient_"
	prefixObs        = "obs_"
	prefixEnrollment = "enr_"
	prefixAlert      = "alert_"
	prefixTime       = "time_"
	prefixMetric     = "metric_"
	prefixRule       = "rule_"
)

func wireID(prefix, uuid string) string {
	if uuid == "" {
		return ""
	}
	return prefix + uuid
}

// modelID strips prefix from id; ok is false when the prefix is wrong or
// nothing follows it.
func modelID(prefix, id string) (string, bool) {
	u, ok := strings.CutPrefix(id, prefix)
	if !ok || u == "" || len(u) > 64 {
		return "", false
	}
	return u, true
}

// Cursors are opaque to clients: base64url of a small JSON object.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

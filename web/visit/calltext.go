package visit

import (
	"context"
	"encoding/json"

	"github.com/clinicbox/clinicbox/web/i18n"
)

// callWords maps the names video.js looks words up by to their message ids.
// The script never carries wording of its own: the page hands it these, in
// the page's language, as JSON in the call root's data-text attribute (the
// CSP forbids inline script). Placeholders the script fills in are written
// {name}, {n}, {q}, {time}, {error}.
var callWords = map[string]string{
	"noCamera":       "CallNoCamera",
	"devicesOK":      "CallDevicesOK",
	"micOnly":        "CallMicOnly",
	"blocked":        "CallBlocked",
	"cameraN":        "CallCameraN",
	"micN":           "CallMicN",
	"speakerN":       "CallSpeakerN",
	"checking":       "CallChecking",
	"viaRelay":       "CallViaRelay",
	"direct":         "CallDirect",
	"unreachable":    "CallUnreachable",
	"checkFailed":    "CallCheckFailed",
	"connecting":     "VisitConnecting",
	"lobby":          "CallStateLobby",
	"call":           "CallStateCall",
	"reconnecting":   "CallReconnecting",
	"ended":          "CallStateEnded",
	"left":           "CallStateLeft",
	"replaced":       "CallReplaced",
	"q0":             "CallQuality0",
	"q1":             "CallQuality1",
	"q2":             "CallQuality2",
	"q3":             "CallQuality3",
	"q4":             "CallQuality4",
	"screenOf":       "CallScreenOf",
	"muted":          "CallMutedTag",
	"cameraOff":      "CallCameraOffTag",
	"network":        "CallNetwork",
	"yourNetwork":    "CallYourNetwork",
	"you":            "CallYou",
	"reconnectingOf": "CallReconnectingOf",
	"guestOf":        "CallGuestOf",
	"waitingSince":   "CallWaitingSince",
	"admit":          "CallAdmit",
	"endConfirm":     "CallEndConfirm",
	"mute":           "CallMute",
	"unmute":         "CallUnmute",
	"camOff":         "CallCameraOff",
	"camOn":          "CallCameraOn",
	"share":          "CallShareScreen",
	"stopShare":      "CallStopSharing",
}

// callText is the call's wording in ctx's language as a JSON object.
func callText(ctx context.Context) string {
	out := make(map[string]string, len(callWords))
	for k, id := range callWords {
		// The script's placeholders pass through the catalogue's {{.X}}.
		out[k] = i18n.T(ctx, id, "Name", "{name}", "N", "{n}", "Q", "{q}", "Time", "{time}", "Error", "{error}")
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// Package video is the appliance's media server: one room per appointment,
// joined through the visit links over a WebSocket on the HTTPS port, a lobby
// that the server enforces (nobody waiting sends or receives media), RTP
// forwarded by pion between the admitted, and an embedded TURN server for
// networks that block UDP. media.go is the only file that knows pion's
// WebRTC types; the room logic sees peers, up-tracks and down-tracks.
// simulcast.go holds what simulcast needs beyond pion: the offer's layer
// request, choosing a viewer's layer, keyframe detection, and the
// rewriting that makes the layers one stream for a viewer.
package video

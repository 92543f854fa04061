// Package video will hold the appliance's WebRTC media server: one room per
// appointment, joined through the provider and patient visit links, with RTP
// forwarded by pion and an embedded TURN server (see ARCHITECTURE.md, Video).
// The visit pages in web/visit already resolve those links; the media itself
// is the subject of its own issue and is not built yet.
package video

package admin

import (
	"context"
	"net"

	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// addrLabel shows where a request came from in words when it is this
// machine ("::1", "127.0.0.1"), else the address.
func addrLabel(ctx context.Context, addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return i18n.T(ctx, "ThisComputer")
	}
	if addr == "" {
		return "—"
	}
	return addr
}

// auditActionLabel is an audit action in words.
func auditActionLabel(ctx context.Context, action string) string {
	if id := "AuditActionLabel." + action; i18n.Has(id) {
		return i18n.T(ctx, id)
	}
	return action
}

// yesNo is a yes/no in the page's language.
func yesNo(ctx context.Context, b bool) string {
	if b {
		return text.T(ctx).Yes
	}
	return text.T(ctx).No
}

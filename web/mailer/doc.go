// Package mailer sends the few e-mails the appliance sends (visit links)
// through the organisation's own SMTP server, configured in the admin pages.
package mailer

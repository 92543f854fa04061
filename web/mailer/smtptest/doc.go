// Package smtptest is a small SMTP server on 127.0.0.1 for tests: it
// speaks enough of RFC 5321 (EHLO, MAIL, RCPT, DATA, QUIT) to accept what
// net/smtp sends and keeps each message for the test to read.
package smtptest

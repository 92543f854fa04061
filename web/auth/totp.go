package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: the RFC 6238 defaults every authenticator app knows
// (SHA-1, 6 digits, 30-second steps), with one step of clock drift allowed
// either way.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a fresh secret for account (an email) and the otpauth://
// URL an authenticator app reads from a QR code.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	return k, nil
}

// TOTPKeyFromSecret rebuilds the key of a stored secret (to show its QR
// code again while enrolment is pending).
func TOTPKeyFromSecret(issuer, account, secret string) (*otp.Key, error) {
	u := fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&period=%d&digits=6&algorithm=SHA1",
		pathEscape(issuer), pathEscape(account), secret, pathEscape(issuer), totpPeriod)
	return otp.NewKeyFromURL(u)
}

func pathEscape(s string) string {
	return strings.NewReplacer(" ", "%20", ":", "%3A", "/", "%2F", "?", "%3F", "&", "%26", "#", "%23").Replace(s)
}

// TOTPCheck checks code at now: it answers the time step the code belongs to
// (within the allowed drift) when that step is newer than lastStep, so a
// code that was accepted once is refused afterwards.
func TOTPCheck(code string, now time.Time) store.CodeCheck {
	code = strings.TrimSpace(strings.ReplaceAll(code, " ", ""))
	return func(secret string, lastStep int64) (int64, bool) {
		if len(code) != 6 {
			return 0, false
		}
		step := now.Unix() / totpPeriod
		for d := int64(-totpSkew); d <= totpSkew; d++ {
			s := step + d
			if s <= lastStep {
				continue
			}
			want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
			if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
				return s, true
			}
		}
		return 0, false
	}
}

// TOTPCode is the code of secret at t (tests and the simulator).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// NewRecoveryCodes makes n one-time recovery codes, "xxxxx-xxxxx" in
// lower-case base32 (50 bits each).
func NewRecoveryCodes(n int) []string {
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 7)
		rand.Read(b)
		s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
		out[i] = s[:5] + "-" + s[5:]
	}
	return out
}

package monitoring

import (
	"bytes"
	"errors"
	"image/png"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// totpIssuer is what authenticator apps show beside the account.
const totpIssuer = "Clinicbox"

// SecurityProps is the profile page of a staff member's second factor.
type SecurityProps struct {
	Page          layout.PageProps
	Factor        *store.SecondFactor
	Secret        string   // while enrolment is pending: to type in by hand
	RecoveryCodes []string // shown once, right after confirming
	MustEnrol     bool
	Error         string
}

func (h *handlers) securityProps(w http.ResponseWriter, r *http.Request) (*SecurityProps, error) {
	u := user(r)
	sf, err := h.st.SecondFactorOf(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	p := &SecurityProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "SecTitle"), User: u, Flash: layout.TakeFlash(w, r)}, Factor: sf}
	if sf.Pending {
		if p.Secret, err = h.st.PendingTOTPSecret(r.Context(), u.ID); err != nil {
			return nil, err
		}
	}
	if !sf.Enrolled && u.Role == store.RoleAdmin {
		set, err := h.st.OrgSettings(r.Context(), u.OrgID)
		if err != nil {
			return nil, err
		}
		p.MustEnrol = set.RequireAdminMFA
	}
	return p, nil
}

// security: GET /account/security.
func (h *handlers) security(w http.ResponseWriter, r *http.Request) {
	p, err := h.securityProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, securityPage(*p))
}

// startTOTP: POST /account/security/totp makes a fresh secret to scan.
func (h *handlers) startTOTP(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	key, err := auth.NewTOTPKey(totpIssuer, u.Email)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.StartTOTPEnrollment(r.Context(), u.OrgID, u.ID, key.Secret()); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/account/security")
}

// totpQR: GET /account/security/totp/qr.png, the pending secret as a QR
// code (an image from this origin: no data: URL for the page's policy).
func (h *handlers) totpQR(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	secret, err := h.st.PendingTOTPSecret(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	key, err := auth.TOTPKeyFromSecret(totpIssuer, u.Email, secret)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	img, err := key.Image(240, 240)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// confirmTOTP: POST /account/security/totp/confirm with the first code.
// The recovery codes are shown on this answer only.
func (h *handlers) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	u := user(r)
	codes := auth.NewRecoveryCodes(10)
	err := h.st.ConfirmTOTP(r.Context(), u.OrgID, u.ID, auth.TOTPCheck(r.PostForm.Get("code"), h.st.Now()), codes)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		p, perr := h.securityProps(w, r)
		if perr != nil {
			h.fail(w, r, perr)
			return
		}
		p.Error = i18n.T(r.Context(), "SecWrongCode")
		h.render(w, r, http.StatusBadRequest, securityPage(*p))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.auth.Enrolled(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.securityProps(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.RecoveryCodes = codes
	h.render(w, r, http.StatusOK, securityPage(*p))
}

// removeTOTP: POST /account/security/totp/remove. Not for an admin whose
// organisation requires the factor.
func (h *handlers) removeTOTP(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	if u.Role == store.RoleAdmin {
		set, err := h.st.OrgSettings(r.Context(), u.OrgID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if set.RequireAdminMFA {
			layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "SecMustKeep"))
			redirect(w, r, "/account/security")
			return
		}
	}
	if err := h.st.RemoveTOTP(r.Context(), u.OrgID, u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "SecRemoved"))
	redirect(w, r, "/account/security")
}

// CodeProps is the sign-in's second step.
type CodeProps struct {
	Page  layout.PageProps
	Error string
}

// codeForm: GET /signin/code.
func (h *handlers) codeForm(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.auth.PendingSecondFactor(r); !ok {
		redirect(w, r, "/signin")
		return
	}
	h.render(w, r, http.StatusOK, codePage(CodeProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "SecEnterCode")}}))
}

// code: POST /signin/code checks a TOTP or recovery code and signs in.
func (h *handlers) code(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	uid, next, ok := h.auth.PendingSecondFactor(r)
	if !ok {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "SecTooLong"))
		redirect(w, r, "/signin")
		return
	}
	code := r.PostForm.Get("code")
	err := h.st.VerifySecondFactor(r.Context(), uid, code, auth.TOTPCheck(code, h.st.Now()))
	var locked *store.LockedError
	switch {
	case errors.As(err, &locked):
		h.render(w, r, http.StatusTooManyRequests, codePage(CodeProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "SecEnterCode")},
			Error: i18n.T(r.Context(), "SecTooManyCodes", "Time", i18n.Time(r.Context(), locked.Until.Local()))}))
		return
	case errors.Is(err, store.ErrBadSecondFactor):
		h.auth.Limiter.Fail(auth.ClientKey(r))
		h.render(w, r, http.StatusUnauthorized, codePage(CodeProps{Page: layout.PageProps{Title: i18n.T(r.Context(), "SecEnterCode")},
			Error: i18n.T(r.Context(), "SecBadCode")}))
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	u, err := h.st.UserByID(r.Context(), uid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auth.EndSecondFactor(w)
	if err := h.auth.SignIn(w, r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, localBack(next, "/board"))
}

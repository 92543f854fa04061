// Package layout is the frame and the small building blocks every clinician
// page shares. Other packages (web/ui, web/ui/admin, web/ui/station, ...)
// build their pages on it; its API is kept stable.
//
// # Page frame
//
//	layout.Page(layout.PageProps{Title: "Users", User: u, Active: layout.NavAdmin, Flash: fl}).Render(ctx, w)
//
// Page is a templ component that wraps its children: <html lang>, head
// (title, /assets/app.css, deferred /assets/app.js and PageProps.Scripts), a
// skip link, the top navigation (Board, Appointments, Patients, and Admin for
// admins), the signed-in user's name with a sign-out form (POST /signout),
// the flash messages, and <main id="main"> holding the children. In templ:
//
//	@layout.Page(p) {
//	    <h1>...</h1>
//	}
//
// Render a whole page with layout.Render(w, r, status, component), which
// sets the content type and logs nothing itself (it returns the error).
//
// # Flash messages
//
// SetFlash(w, kind, msg) before a redirect; TakeFlash(w, r) on the next page
// returns (and clears) them; pass them in PageProps.Flash. Kinds: FlashOK,
// FlashError, FlashInfo. Messages are escaped when shown.
//
// # Forms
//
//   - TextField(Field{...}): a labelled <input> with the field's validation
//     message next to it (aria-invalid and aria-describedby set).
//   - TextArea(Field{...}): the same for <textarea> (Field.Rows).
//   - SelectField(Select{...}): a labelled <select> of Options.
//   - Hidden(name, value): a hidden input.
//   - Submit(label): the primary submit button; Button(ButtonProps) for others.
//   - PostButton(PostButtonProps): a one-button POST form (actions on a row).
//   - FormErrors(errs): a summary line when a form has errors (role="alert").
//
// Errors is the per-field message map (store.ValidationError.Fields);
// FieldErrors(err) extracts it from any error.
//
// # Other blocks
//
//   - EmptyState(title, hint): a friendly "nothing here" block; children are
//     shown under it (a link to create the first item, say).
//   - Pagination(Pager{...}): Previous/Next links and "Page x of y".
//   - Tables: <table class="table"> inside <div class="table-wrap"> gets the
//     compact striped style and scrolls sideways on narrow screens.
//
// Every user-visible string comes from web/ui/text.
package layout

package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// codes words a status for this API's error shape.
var codes = map[int]string{400: "invalid", 401: "invalid_token", 403: "insufficient_scope", 404: "not_found",
	409: "conflict", 412: "precondition_failed", 413: "too_large", 499: "cancelled", 500: "internal"}

// word is this API's wording of a classified error.
func word(p httpx.Problem) (code, msg string, fields map[string]string) {
	msg = p.Msg
	switch {
	case p.Status == http.StatusNotFound:
		msg = "no such key"
	case msg == "":
		msg = http.StatusText(p.Status)
	}
	code = codes[p.Status]
	if code == "" {
		code = "error"
	}
	return code, msg, p.Fields
}

// fail renders err in the OAuth2 faces' error shape (httpx.APIErrors); a
// failed If-Match is this API's own 412.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrPreconditionFailed) {
		err = httpx.Error(http.StatusPreconditionFailed, err.Error())
	}
	httpx.APIErrors{Log: h.log, Name: "kv api", Word: word}.Fail(w, r, err)
}

func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads one entity tag ("3" or W/"3") as a version.
func parseETag(v string) (int64, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, false
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	return n, err == nil && n > 0
}

// condition reads If-Match and If-None-Match.
func condition(r *http.Request, put bool) (store.KVCondition, error) {
	var c store.KVCondition
	if v := r.Header.Get("If-Match"); v != "" {
		n, ok := parseETag(v)
		if !ok {
			return c, store.Invalid("If-Match", `must be one entity tag as returned in ETag, such as "3"`)
		}
		c.IfMatch = n
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if !put || strings.TrimSpace(v) != "*" {
			return c, store.Invalid("If-None-Match", "only * (create, never replace) is supported, on PUT")
		}
		c.IfNoneMatch = true
	}
	return c, nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.KV(r.Context(), orgID(r), r.PathValue("namespace"), r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if n, ok := parseETag(r.Header.Get("If-None-Match")); ok && n == e.Version {
		w.Header().Set("ETag", etag(e.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", e.ContentType)
	w.Header().Set("ETag", etag(e.Version))
	w.Header().Set("Last-Modified", e.UpdatedAt.UTC().Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(e.Value)
}

// putAnswer is the answer to a PUT.
type putAnswer struct {
	Namespace string `json:"namespace"`
	Key       string `json:"key"`
	Version   int64  `json:"version"`
	UpdatedAt string `json:"updatedAt"`
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request) {
	cond, err := condition(r, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		h.fail(w, r, store.Invalid("Content-Type", "is required: application/json for JSON values, any other type for bytes"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, store.MaxKVValue))
	if errors.As(err, new(*http.MaxBytesError)) {
		err = httpx.Error(http.StatusRequestEntityTooLarge, fmt.Sprintf("a value is at most %d bytes", store.MaxKVValue))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if (mt == "application/json" || strings.HasSuffix(mt, "+json")) && !json.Valid(body) {
		h.fail(w, r, store.Invalid("value", "is not valid JSON (send another Content-Type to store bytes)"))
		return
	}
	e := &store.KVEntry{Namespace: r.PathValue("namespace"), Key: r.PathValue("key"), Value: body, ContentType: ct}
	if err := h.store.PutKV(r.Context(), orgID(r), e, cond); err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if e.Version == 1 {
		status = http.StatusCreated
	}
	w.Header().Set("ETag", etag(e.Version))
	httpx.JSON(w, status, putAnswer{e.Namespace, e.Key, e.Version, e.UpdatedAt.UTC().Format(time.RFC3339)})
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	cond, err := condition(r, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.DeleteKV(r.Context(), orgID(r), r.PathValue("namespace"), r.PathValue("key"), cond); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listItem is one key of a list.
type listItem struct {
	Key         string `json:"key"`
	Version     int64  `json:"version"`
	ContentType string `json:"contentType"`
	UpdatedAt   string `json:"updatedAt"`
}

type listAnswer struct {
	Namespace string     `json:"namespace"`
	Items     []listItem `json:"items"`
	// Next is the after= value of the next page ("" on the last page).
	Next string `json:"next,omitempty"`
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			h.fail(w, r, store.Invalid("limit", "must be a whole number from 1 to 1000"))
			return
		}
		limit = n
	}
	ns := r.PathValue("namespace")
	es, err := h.store.KVEntries(r.Context(), orgID(r), ns, store.KVList{Prefix: q.Get("prefix"), After: q.Get("after"), Limit: limit + 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ans := listAnswer{Namespace: ns, Items: []listItem{}}
	for i, e := range es {
		if i == limit {
			ans.Next = es[limit-1].Key
			break
		}
		ans.Items = append(ans.Items, listItem{e.Key, e.Version, e.ContentType, e.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	httpx.JSON(w, http.StatusOK, ans)
}

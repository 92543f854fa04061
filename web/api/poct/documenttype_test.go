package poct_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDocumentTypes: a document is stored only with a type of the
// documented allow-list whose bytes are what the type says, and never
// empty; a refusal answers 422 in the face's shape and stores nothing.
func TestDocumentTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	enc := e.do("POST", "/api/poct/v1/encounters", e.tokenA, map[string]any{"patient_ref": e.patA.UUID, "station": "Lab"}).json(t)
	path := "/api/poct/v1/encounters/" + enc["id"].(string) + "/documents?title=Report&filename="
	for _, c := range []struct {
		name, filename, contentType, body string
		want                              int
		wantType                          string // stored content type, on success
	}{
		{"pdf", "ecg.pdf", "application/pdf", "%PDF-1.7\n...", 201, "application/pdf"},
		{"pdf guessed from the name", "ecg.pdf", "", "%PDF-1.4\n", 201, "application/pdf"},
		{"curl's default type: guessed", "ecg.pdf", "application/x-www-form-urlencoded", "%PDF-1.4\n", 201, "application/pdf"},
		{"png", "trace.png", "image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 201, "image/png"},
		{"jpeg", "photo.jpg", "image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", 201, "image/jpeg"},
		{"text with charset", "log.txt", "text/plain; charset=utf-8", "Spirometry FEV1 3.1 L\n", 201, "text/plain; charset=utf-8"},
		{"csv", "export.csv", "text/csv", "time,value\n1,2\n", 201, "text/csv"},
		{"xml with BOM", "ecg.xml", "application/xml", "\xef\xbb\xbf<?xml version=\"1.0\"?><AnnotatedECG/>", 201, "application/xml"},
		{"hl7 v2", "oru.hl7", "application/hl7-v2", "MSH|^~\\&|SPIRO|LAB\r", 201, "application/hl7-v2"},
		{"vendor binary", "spiro.bin", "application/octet-stream", "\x00\x01\x02\x03", 201, "application/octet-stream"},

		{"html", "x.html", "text/html", "<html><script>alert(1)</script>", 422, ""},
		{"svg", "x.svg", "image/svg+xml", "<svg onload=alert(1)>", 422, ""},
		{"html guessed from the bytes", "report", "", "<html><body>hi</body></html>", 422, ""},
		{"not a media type", "x.pdf", "pdf", "%PDF-1.4", 422, ""},
		{"a PDF that is not one", "ecg.pdf", "application/pdf", "MZ\x90\x00 an executable", 422, ""},
		{"a PNG that is a PDF", "ecg.png", "image/png", "%PDF-1.4\n", 422, ""},
		{"a JPEG that is text", "p.jpg", "image/jpeg", "hello", 422, ""},
		{"text with NUL", "log.txt", "text/plain", "abc\x00def", 422, ""},
		{"text not UTF-8", "log.txt", "text/plain", "caf\xe9 \xff\xfe", 422, ""},
		{"hl7 without a header segment", "oru.hl7", "application/hl7-v2", "PID|1||123\r", 422, ""},
		{"xml that is not", "x.xml", "application/xml", "hello", 422, ""},
		{"empty", "ecg.pdf", "application/pdf", "", 422, ""},
		{"empty octet-stream", "spiro.bin", "application/octet-stream", "", 422, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.documentCount(enc["id"].(string))
			req, _ := http.NewRequest("POST", e.srv.URL+path+c.filename, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+e.tokenA)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out map[string]any
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatalf("%d %s: not JSON", resp.StatusCode, b)
			}
			if resp.StatusCode != c.want {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, c.want, b)
			}
			after := e.documentCount(enc["id"].(string))
			if c.want != 201 {
				if field(out, "error.code") != "invalid" || field(out, "error.message") == "" || field(out, "error.fields") == nil {
					t.Errorf("error shape: %s", b)
				}
				if after != before {
					t.Errorf("refused, yet %d documents became %d", before, after)
				}
				return
			}
			if out["content_type"] != c.wantType || out["size"] != float64(len(c.body)) || after != before+1 {
				t.Errorf("stored %v (%d documents before, %d after)", out, before, after)
			}
			dl := e.do("GET", "/api/poct/v1/documents/"+out["id"].(string), e.tokenA, nil)
			if dl.status != 200 || string(dl.body) != c.body || dl.header.Get("Content-Type") != c.wantType {
				t.Errorf("download: %d %q %q", dl.status, dl.header.Get("Content-Type"), dl.body)
			}
		})
	}
}

// documentCount is the number of documents on the encounter, as the API
// lists them.
func (e *env) documentCount(encounter string) int {
	return len(e.do("GET", "/api/poct/v1/encounters/"+encounter+"/documents", e.tokenA, nil).json(e.t)["data"].([]any))
}

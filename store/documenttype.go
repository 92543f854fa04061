package store

import (
	"bytes"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"
)

// DocumentTypes are the content types a document sent through the
// point-of-care API may have: what instruments and their software write
// (reports as PDF or images, exports as text, CSV or XML, HL7 v2 messages,
// vendor files as octet-stream). Anything else (HTML, SVG, scripts,
// archives) is refused: documents are served back to browsers and LIS
// software, so what is stored must be what it says it is.
var DocumentTypes = []string{
	"application/pdf",
	"image/png",
	"image/jpeg",
	"text/plain",
	"text/csv",
	"application/xml",
	"application/hl7-v2",
	"application/octet-stream",
}

// documentMagic is how the bytes of a type must start, for the types
// whose first bytes say what they are.
var documentMagic = map[string][][]byte{
	"application/pdf":    {[]byte("%PDF-")},
	"image/png":          {[]byte("\x89PNG\r\n\x1a\n")},
	"image/jpeg":         {[]byte("\xff\xd8\xff")},
	"application/hl7-v2": {[]byte("MSH|"), []byte("FHS|"), []byte("BHS|"), []byte("\x0bMSH|")},
}

// CheckDocument checks a document's declared content type (guessed from
// the file name and bytes when empty) against DocumentTypes and against
// its first bytes (head, up to 512), and refuses an empty document. It
// answers the content type to store.
func CheckDocument(contentType, filename string, size int64, head []byte) (string, error) {
	var v Validator
	if contentType == "" {
		contentType = contentTypeOf(filename, head)
	}
	base, _, err := mime.ParseMediaType(contentType)
	v.Check(size > 0, "data", "is empty")
	switch {
	case err != nil:
		v.Add("content_type", "is not a media type")
	case !slices.Contains(DocumentTypes, base):
		v.Add("content_type", base+" is not accepted; send one of "+strings.Join(DocumentTypes, ", "))
	case size > 0 && !sniffs(base, head):
		v.Add("content_type", "does not match the file's bytes")
	}
	return contentType, v.Err()
}

// sniffs reports whether head can begin a file of the type.
func sniffs(base string, head []byte) bool {
	if magic, ok := documentMagic[base]; ok {
		return slices.ContainsFunc(magic, func(m []byte) bool { return bytes.HasPrefix(head, m) })
	}
	switch base {
	case "text/plain", "text/csv":
		// Text: no NUL, valid UTF-8 (a rune cut at the end of head aside).
		h := head
		for i := 0; i < 3 && len(h) > 0 && !utf8.Valid(h); i++ {
			h = h[:len(h)-1]
		}
		return bytes.IndexByte(head, 0) < 0 && utf8.Valid(h)
	case "application/xml":
		h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
		return bytes.HasPrefix(h, []byte("<"))
	}
	return true // octet-stream: any bytes
}

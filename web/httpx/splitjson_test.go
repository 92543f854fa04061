package httpx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// bufCloser collects a stream.
type bufCloser struct {
	bytes.Buffer
	closed bool
}

func (b *bufCloser) Close() error { b.closed = true; return nil }

func split(t testing.TB, in string, keep int64, paths ...[]string) ([]byte, []*bufCloser, error) {
	var streams []*bufCloser
	kept, err := SplitJSON(strings.NewReader(in), keep,
		func(p JSONPath) bool {
			for _, want := range paths {
				if p.Is(want...) {
					return true
				}
			}
			return false
		},
		func(n int, p JSONPath) (io.WriteCloser, error) {
			if n != len(streams) {
				t.Fatalf("stream %d opened as number %d", len(streams), n)
			}
			b := &bufCloser{}
			streams = append(streams, b)
			return b, nil
		})
	return kept, streams, err
}

func TestSplitJSON(t *testing.T) {
	data := []string{"files", "*", "data"}
	tests := []struct {
		name, in string
		kept     string   // the kept document, compacted
		streams  []string // what each stream received
		err      string   // part of the error message
		status   int      // Classify's status for the error
	}{
		{name: "files streamed", in: `{"a": 1, "files": [{"filename": "x.pdf", "data": "QUJD"}, {"data":"REVG", "filename":"y"}], "b": [true, null, "s"]}`,
			kept: `{"a":1,"files":[{"filename":"x.pdf","data":0},{"data":1,"filename":"y"}],"b":[true,null,"s"]}`, streams: []string{"QUJD", "REVG"}},
		{name: "escapes resolved in the stream", in: `{"files":[{"data":"QU\/J\nD\u0041"}]}`, kept: `{"files":[{"data":0}]}`, streams: []string{"QU/J\nDA"}},
		{name: "keys without case, as encoding/json", in: `{"FILES":[{"Data":"QQ=="}]}`, kept: `{"FILES":[{"Data":0}]}`, streams: []string{"QQ=="}},
		{name: "escaped key", in: `{"fil\u0065s":[{"data":"QQ=="}]}`, kept: `{"fil\u0065s":[{"data":0}]}`, streams: []string{"QQ=="}},
		{name: "other strings kept verbatim", in: `{"data":"x","files":{"data":"y"},"n":"a\"b\\"}`, kept: `{"data":"x","files":{"data":"y"},"n":"a\"b\\"}`},
		{name: "null is not streamed", in: `{"files":[{"data":null}]}`, kept: `{"files":[{"data":null}]}`},
		{name: "a number where a file is", in: `{"files":[{"data":12}]}`, err: "field files[0].data must be a string", status: 400},
		{name: "an object where a file is", in: `{"files":[{"data":{}}]}`, err: "must be a string", status: 400},
		{name: "control character in a file", in: "{\"files\":[{\"data\":\"QQ\x00==\"}]}", err: "control character", status: 400},
		{name: "empty", in: ``, err: "empty", status: 400},
		{name: "ends early", in: `{"files":[{"data":"QQ`, err: "ends too early", status: 400},
		{name: "ends early in an object", in: `{"a":`, err: "ends too early", status: 400},
		{name: "trailing data", in: `{} {}`, err: "single JSON value", status: 400},
		{name: "garbage", in: `{"a" 1}`, err: "not valid JSON (at byte", status: 400},
		{name: "bad escape", in: `{"files":[{"data":"\q"}]}`, err: "not valid JSON", status: 400},
		{name: "deep", in: strings.Repeat("[", 100) + strings.Repeat("]", 100), err: "nested more than 64", status: 400},
		{name: "kept part too large", in: `{"results":"` + strings.Repeat("x", 200) + `"}`, err: "other than file data", status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, streams, err := split(t, tt.in, 100, data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if got := Classify(err).Status; got != tt.status {
					t.Fatalf("status %d, want %d", got, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(kept) != tt.kept {
				t.Errorf("kept %s\nwant %s", kept, tt.kept)
			}
			var got []string
			for _, s := range streams {
				if !s.closed {
					t.Error("stream not closed")
				}
				got = append(got, s.String())
			}
			if !reflect.DeepEqual(got, tt.streams) {
				t.Errorf("streams %q, want %q", got, tt.streams)
			}
		})
	}
}

// A body over its limit while a file streams is a 413, and a writer's
// failure names the field.
func TestSplitJSONErrors(t *testing.T) {
	body := `{"files":[{"data":"` + strings.Repeat("QUJD", 1000) + `"}]}`
	_, err := SplitJSON(http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(body)), 1000), 100,
		func(p JSONPath) bool { return p.Is("files", "*", "data") },
		func(int, JSONPath) (io.WriteCloser, error) { return &bufCloser{}, nil })
	if Classify(err).Status != 413 {
		t.Fatalf("over the limit: %v (%d)", err, Classify(err).Status)
	}
	full := errors.New("full")
	_, err = SplitJSON(strings.NewReader(body), 100,
		func(p JSONPath) bool { return p.Is("files", "*", "data") },
		func(int, JSONPath) (io.WriteCloser, error) { return failWriter{full}, nil })
	var se *StreamError
	if !errors.As(err, &se) || se.Path != "files[0].data" || !errors.Is(err, full) {
		t.Fatalf("writer failure: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
func (f failWriter) Close() error              { return nil }

func TestBase64Writer(t *testing.T) {
	long := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 50000) // longer than the writer's block
	tests := []struct {
		in   string
		want []byte
		bad  bool
	}{
		{in: "", want: []byte{}},
		{in: "QQ==", want: []byte("A")},
		{in: "QQ", want: []byte("A")},
		{in: "QUI=", want: []byte("AB")},
		{in: "QUI", want: []byte("AB")},
		{in: "QUJD", want: []byte("ABC")},
		{in: "QU\r\nJD", want: []byte("ABC")},
		{in: base64.StdEncoding.EncodeToString(long), want: long},
		{in: base64.RawStdEncoding.EncodeToString(long[:len(long)-1]), want: long[:len(long)-1]},
		{in: "Q", bad: true},
		{in: "QQ==QQ==", bad: true},
		{in: "QQ=", bad: true},
		{in: "QR==", bad: true}, // trailing bits set
		{in: "QU*D", bad: true},
		{in: "QUJD-_", bad: true}, // URL alphabet
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := NewBase64Writer(&out)
		// Written in pieces of every size, as the splitter does.
		in := []byte(tt.in)
		var err error
		for i, step := 0, 1; i < len(in) && err == nil; i, step = i+step, step*3+1 {
			_, err = w.Write(in[i:min(i+step, len(in))])
		}
		if err == nil {
			err = w.Close()
		}
		if tt.bad {
			if !errors.Is(err, ErrBadBase64) {
				t.Errorf("%.20q: %v, want ErrBadBase64", tt.in, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(out.Bytes(), tt.want) {
			t.Errorf("%.20q: %v, %d bytes, want %d", tt.in, err, out.Len(), len(tt.want))
		}
	}
}

// FuzzSplitJSON: whatever valid JSON comes in, the kept document means the
// same with each streamed string replaced by its number, and each stream
// holds the string's text.
func FuzzSplitJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		kept, streams, err := split(t, in, 1<<20, []string{"files", "*", "data"})
		if !json.Valid([]byte(in)) {
			if err == nil {
				// The splitter copies numbers and literals for the decoder
				// to check; the decoder must then refuse the document.
				var v any
				if json.Unmarshal(kept, &v) == nil {
					t.Fatalf("invalid %q kept as valid %q", in, kept)
				}
			}
			return
		}
		if err != nil {
			if strings.Contains(err.Error(), "nested") || strings.Contains(err.Error(), "must be a string") {
				return
			}
			t.Fatalf("valid %q: %v", in, err)
		}
		var orig, got any
		if err := json.Unmarshal([]byte(in), &orig); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(kept, &got); err != nil {
			t.Fatalf("kept %q of %q: %v", kept, in, err)
		}
		// Put the streams back where their numbers are.
		if m, ok := got.(map[string]any); ok {
			for k, files := range m {
				if !strings.EqualFold(k, "files") {
					continue
				}
				list, _ := files.([]any)
				for _, f := range list {
					fm, _ := f.(map[string]any)
					for dk, d := range fm {
						if n, ok := d.(float64); ok && strings.EqualFold(dk, "data") {
							fm[dk] = streams[int(n)].String()
						}
					}
				}
			}
		}
		if !reflect.DeepEqual(orig, got) {
			t.Fatalf("%q kept as %q (%d streams)", in, kept, len(streams))
		}
	})
}

package devices

import "testing"

func TestTranscript(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"\x05", "<ENQ>"},
		{"\x021H|\\^&\r\x03A7\r\n", "<STX>1H|\\^&<CR>\n<ETX>A7<CR>\n<LF>"},
		{"\x0bMSH|^~\\&\r\x1c\r", "<VT>MSH|^~\\&<CR>\n<FS><CR>"},
		{"a\x01b\x7f", "a<01>b<7F>"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Transcript([]byte(c.raw)); got != c.want {
			t.Errorf("Transcript(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

package assets

import "embed"

// The fonts printed documents embed: DejaVu Sans (regular and bold), which
// covers every European alphabet. Its licence (free to embed and
// redistribute) is fonts/LICENSE-DejaVu.txt.
//
//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf
var fonts embed.FS

// FontRegular and FontBold are the TrueType files of DejaVu Sans.
var (
	FontRegular = mustRead("fonts/DejaVuSans.ttf")
	FontBold    = mustRead("fonts/DejaVuSans-Bold.ttf")
)

func mustRead(name string) []byte {
	b, err := fonts.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return b
}

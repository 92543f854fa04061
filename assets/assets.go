package assets

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static is the static file tree, served under /assets/.
var Static, _ = fs.Sub(files, "static")

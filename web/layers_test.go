package web

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/clinicbox/clinicbox/"

// faces are the packages that speak to the outside; everything they need
// from below comes through store, the shared web packages or an interface
// that web wires.
var faces = []string{
	"web/api/events", "web/api/instrument", "web/api/kv", "web/api/monitoring", "web/api/poct",
	"web/api/reports", "web/api/telehealth", "web/fhir",
	"web/ui", "web/ui/admin", "web/ui/monitoring", "web/ui/notes", "web/ui/station", "web/visit",
}

// isFace tells a face, including one added later under web/api or web/ui
// that nobody listed here (a subpackage of a face, such as a wire format
// it shares with a worker, is not a face).
func isFace(pkg string) bool {
	if slices.Contains(faces, pkg) {
		return true
	}
	for _, root := range []string{"web/api/", "web/ui/"} {
		if rest, ok := strings.CutPrefix(pkg, root); ok && !strings.Contains(rest, "/") &&
			rest != "layout" && rest != "text" {
			return true
		}
	}
	return false
}

// TestPackagesImportDownwards keeps the README's architecture rules: faces
// never import each other, devices, video or reports; the packages below
// the faces never import a face; the model imports nothing above it; the
// engines (devices, video, reports) never reach into the web layer or into
// each other; only cmd imports web itself; and every package has a doc.go
// saying what it owns. It reads the import lines of
// every non-test file, so a new package is checked without a line here.
func TestPackagesImportDownwards(t *testing.T) {
	imports := map[string][]string{} // package (module-relative) -> its module imports
	documented := map[string]bool{}  // packages with a doc.go
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if filepath.Base(path) == "doc.go" {
			documented[pkg] = true
		}
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(imports[pkg], dep) {
				imports[pkg] = append(imports[pkg], dep)
			}
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range imports {
		if !documented[pkg] {
			t.Errorf("%s has no doc.go saying what it owns", pkg)
		}
	}
	for _, f := range faces {
		if _, ok := imports[f]; !ok {
			t.Errorf("face %s listed here no longer exists: update the list", f)
		}
	}

	under := func(pkg string, roots ...string) bool {
		for _, r := range roots {
			if pkg == r || strings.HasPrefix(pkg, r+"/") {
				return true
			}
		}
		return false
	}
	engines := []string{"devices", "video", "reports"}
	checked := 0
	for pkg, deps := range imports {
		for _, dep := range deps {
			checked++
			var why string
			switch {
			case dep == "web" && !under(pkg, "cmd"):
				why = "only cmd wires the web layer"
			case isFace(pkg) && isFace(dep):
				why = "a face imports another face"
			case isFace(pkg) && under(dep, engines...):
				why = "a face imports an engine directly (declare an interface; web wires it)"
			case under(pkg, "web") && !isFace(pkg) && pkg != "web" && isFace(dep):
				why = "a package below the faces imports a face"
			case under(pkg, "store") && under(dep, "web", "devices", "video", "reports", "cmd"):
				why = "the model imports a layer above it"
			case under(pkg, engines...) && under(dep, "web", "cmd"):
				why = "an engine imports the web layer or cmd"
			case under(pkg, engines...) && under(dep, engines...) && strings.Split(pkg, "/")[0] != strings.Split(dep, "/")[0]:
				why = "one engine imports another"
			}
			if why != "" {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
	}
	if len(imports) < 40 || checked < 100 {
		t.Fatalf("read %d packages and %d imports: the walk missed the tree", len(imports), checked)
	}
}

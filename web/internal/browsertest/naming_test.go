package browsertest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBrowserTestsAreNamedSo: `make test` runs the browser tests in a pass of
// their own (-run '^TestBrowser', one package at a time, so Chromium's fake
// camera is not starved by the CPU-heavy packages running beside it) and
// skips them in the main pass. A browser test named otherwise would run in
// neither, so every test in a file that drives Chromium must be named
// TestBrowser….
func TestBrowserTestsAreNamedSo(t *testing.T) {
	root := moduleRoot(t)
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		drives := false
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/chromedp/chromedp" {
				drives = true
			}
		}
		if !drives {
			return nil
		}
		for _, decl := range f.Decls {
			name := funcName(decl)
			if !strings.HasPrefix(name, "Test") || name == "TestMain" {
				continue
			}
			found++
			if !strings.HasPrefix(name, "TestBrowser") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s: %s drives Chromium but is not named TestBrowser…: make test would never run it", rel, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("found no browser tests at all: is the walk looking in the right place?")
	}
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// funcName is the name of a top-level function (not a method), or "".
func funcName(d ast.Decl) string {
	fd, ok := d.(*ast.FuncDecl)
	if !ok || fd.Recv != nil {
		return ""
	}
	return fd.Name.Name
}

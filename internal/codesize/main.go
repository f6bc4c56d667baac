// Command codesize holds the tree to the project's size limits, which
// make vet checks: no function outside tests longer than 80 lines and
// no package with more than 2,000 lines outside tests and generated
// files (a learner should be able to hold a function, and find a lesson's
// code in a package, without scrolling through another's).
//
//	go run ./internal/codesize [-func 80] [-package 2000] [DIR]
//
// It prints one line for each function or package over its limit, the
// longest first, and exits 1 if there is any.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// finding is one function or package over its limit.
type finding struct {
	where string // file:line of the function, or the package's folder
	what  string // "func NAME" or "package"
	lines int
	limit int
}

func (f finding) String() string {
	return fmt.Sprintf("%s: %s is %d lines (limit %d)", f.where, f.what, f.lines, f.limit)
}

func main() {
	maxFunc := flag.Int("func", 80, "the longest a function outside tests may be, in lines")
	maxPkg := flag.Int("package", 2000, "the most lines a package may hold outside tests and generated files")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	found, err := check(root, *maxFunc, *maxPkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "codesize: error:", err)
		os.Exit(2)
	}
	for _, f := range found {
		fmt.Println(f)
	}
	if len(found) > 0 {
		os.Exit(1)
	}
}

// check walks the Go files below root (not tests, testdata, vendor or
// hidden folders; not files marked generated) and returns what is over
// the limits, the longest first.
func check(root string, maxFunc, maxPkg int) ([]finding, error) {
	fset := token.NewFileSet()
	pkgLines := map[string]int{}
	var found []finding
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(file) {
			return nil
		}
		pkgLines[filepath.Dir(path)] += bytes.Count(src, []byte("\n"))
		found = append(found, longFuncs(fset, file, maxFunc)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, n := range pkgLines {
		if n > maxPkg {
			found = append(found, finding{where: dir, what: "package", lines: n, limit: maxPkg})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].lines != found[j].lines {
			return found[i].lines > found[j].lines
		}
		return found[i].where < found[j].where
	})
	return found, nil
}

// longFuncs returns the functions and methods of file longer than max
// lines, counted from the func keyword to the closing brace.
func longFuncs(fset *token.FileSet, file *ast.File, max int) []finding {
	var found []finding
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start := fset.Position(fn.Pos())
		n := fset.Position(fn.End()).Line - start.Line + 1
		if n <= max {
			continue
		}
		name := fn.Name.Name
		if fn.Recv != nil && len(fn.Recv.List) == 1 {
			name = recvName(fn.Recv.List[0].Type) + "." + name
		}
		found = append(found, finding{where: fmt.Sprintf("%s:%d", start.Filename, start.Line), what: "func " + name, lines: n, limit: max})
	}
	return found
}

// recvName is the type a method belongs to, without the pointer or type
// parameters.
func recvName(t ast.Expr) string {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}

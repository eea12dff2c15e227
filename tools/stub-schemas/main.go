// Reads the ForceNew fields of the Terraform OpenStack provider's resource schemas (the provider that Pulumi's
// OpenStack provider wraps) from its source, as the Go module proxy serves it, and prints them as JSON keyed by
// Terraform resource name. A field counts when it, or anything nested in it, is ForceNew: changing it replaces
// the resource. Usage: go run . <module source dir>  (scripts/stub-force-new.sh runs it).
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// resourceFunc matches the functions that return a resource's schema: resourceComputeInstanceV2() and the like.
var resourceFunc = regexp.MustCompile(`^resource[A-Z]\w*V\d+$`)

func key(kv *ast.KeyValueExpr) string {
	if id, ok := kv.Key.(*ast.Ident); ok {
		return id.Name
	}
	if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		s, _ := strconv.Unquote(lit.Value)
		return s
	}
	return ""
}

// forceNewInside: whether `ForceNew: true` appears anywhere in the expression.
func forceNewInside(e ast.Node) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok && key(kv) == "ForceNew" {
			if id, ok := kv.Value.(*ast.Ident); ok && id.Name == "true" {
				found = true
			}
		}
		return !found
	})
	return found
}

// schemaFields: the top-level `Schema: map[string]*schema.Schema{...}` of the resource literal a function returns.
func schemaFields(fn *ast.FuncDecl) []string {
	var fields []string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		ret, ok := n.(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return true
		}
		u, ok := ret.Results[0].(*ast.UnaryExpr)
		if !ok {
			return true
		}
		res, ok := u.X.(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, el := range res.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok || key(kv) != "Schema" {
				continue
			}
			m, ok := kv.Value.(*ast.CompositeLit)
			if !ok {
				continue
			}
			for _, f := range m.Elts {
				fkv, ok := f.(*ast.KeyValueExpr)
				if ok && forceNewInside(fkv.Value) {
					fields = append(fields, key(fkv))
				}
			}
		}
		return false
	})
	sort.Strings(fields)
	return fields
}

// registered: the resource names provider.go registers, by the function that builds each schema.
func registered(fset *token.FileSet, dir string) map[string]string {
	file, err := parser.ParseFile(fset, filepath.Join(dir, "openstack", "provider.go"), nil, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		call, ok := kv.Value.(*ast.CallExpr)
		if !ok {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); ok && strings.HasPrefix(key(kv), "openstack_") && resourceFunc.MatchString(id.Name) {
			names[id.Name] = key(kv)
		}
		return true
	})
	return names
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . <terraform-provider-openstack source dir>")
		os.Exit(2)
	}
	files, _ := filepath.Glob(filepath.Join(os.Args[1], "openstack", "resource_openstack_*.go"))
	out := map[string][]string{}
	fset := token.NewFileSet()
	names := registered(fset, os.Args[1])
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && names[fn.Name.Name] != "" {
				out[names[fn.Name.Name]] = schemaFields(fn)
			}
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

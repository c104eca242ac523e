package main

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// Every %q in a message quotes user input (a value from the command
// line, an inventory or a file): it must go through safetext.Input, which
// bounds it to its first 64 characters and its length. A quoted value
// that is not input (a constant) is written into the format instead.
func TestQuotedInputIsBounded(t *testing.T) {
	eachSource(t, func(_, _ string, f *ast.File, fset *token.FileSet) {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				for _, bad := range unboundedQuotes(call) {
					t.Errorf("%s: %%q of %s: wrap it in safetext.Input", fset.Position(bad.Pos()), exprString(bad))
				}
			}
			return true
		})
	})
}

// unboundedQuotes are the arguments of call that a %q of its format (its
// first string literal) quotes without safetext.Input.
func unboundedQuotes(call *ast.CallExpr) []ast.Expr {
	for i, a := range call.Args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		format, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil
		}
		var bad []ast.Expr
		for _, v := range quotedArgs(format) {
			if j := i + 1 + v; j < len(call.Args) && !isInput(call.Args[j]) {
				bad = append(bad, call.Args[j])
			}
		}
		return bad
	}
	return nil
}

// quotedArgs are the argument indexes (after the format) of the %q verbs
// of format.
func quotedArgs(format string) []int {
	var out []int
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.ContainsRune("+-# 0123456789.*", rune(format[i])) {
			i++
		}
		if i >= len(format) || format[i] == '%' {
			continue
		}
		if format[i] == 'q' {
			out = append(out, arg)
		}
		arg++
	}
	return out
}

func isInput(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		_, lit := e.(*ast.BasicLit)
		return lit
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, "safetext") && sel.Sel.Name == "Input"
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return "an expression"
}

// Package cparse turns a BPF C file into the model the lock analysis needs:
// a type-checked cc/v4 AST plus globals, struct types, functions and call
// sites with exact source spans. It owns everything C-specific: the BPF
// target configuration, include resolution (compile databases, like clangd),
// unsaved-buffer overlays, the trimmed vmlinux.h and the workarounds for
// cc/v4's known bugs. It knows nothing of locks, LSP or the kernel.
package cparse

import (
	"modernc.org/cc/v4"
)

// Pos is a position in a file: Line and Col are 1-based, Col counts bytes;
// Offset is the 0-based byte offset.
type Pos struct {
	Line, Col, Offset int
}

// Span is a half-open byte range [Start, End) in one file.
type Span struct {
	File       string // absolute path
	Start, End Pos
}

// Severity of a frontend error.
type Severity int

const (
	SevError Severity = iota
	SevWarning
)

// Error is a preprocessor, syntax or type error from the C frontend, or a
// missing header (reported at its #include line, with a Hint).
type Error struct {
	Span     Span
	Severity Severity
	Message  string
	Hint     string    // e.g. how to generate vmlinux.h; may be empty
	Missing  string    // for a missing header: the name as written in #include
	Related  []Related // for an error in a header: where it is, and the #include chain
	Stack    string    // for an internal error: the Go stack, for the server log

	header string // the header cc/v4 located the error in, "" for the main file
}

// Related is a secondary location of an Error.
type Related struct {
	Span    Span
	Message string
}

// Tag is a btf_decl_tag / btf_type_tag attribute as written in source.
type Tag struct {
	Kind    string // "btf_decl_tag" or "btf_type_tag"
	Value   string // unquoted, e.g. "guarded_by:glock" or "contains:node_data:node"
	Span    Span   // the attribute (or the macro invocation that produced it)
	Pointee bool   // written among a pointer's qualifiers: applies to the pointee
}

// Var is a file-scope variable declared in the main file or a project
// (non-system) header.
type Var struct {
	Name     string
	Span     Span // the declarator's name
	DeclSpan Span // the whole declaration, from its first token to the ';'
	Decl     *cc.Declarator
	Type     cc.Type
	TypeName string // spelling of the type, e.g. "struct bpf_rb_root"
	Section  string // from SEC(...)/private(...), "" if none
	Static   bool
	Extern   bool
	Tags     []Tag
}

// Field is a member of a struct or union.
type Field struct {
	Name     string
	Span     Span // the member's name
	DeclSpan Span // the whole member declaration
	Type     cc.Type
	TypeName string
	Offset   int64 // byte offset in the parent
	Tags     []Tag
	Parent   *Struct
}

// Struct is a struct or union type with a tag, declared in the main file or
// a project header.
type Struct struct {
	Name   string // the tag, without "struct "
	Union  bool
	Span   Span // the tag name at the definition
	Type   cc.Type
	Fields []*Field
}

// Arg is one argument of a call, with its real source span even when the call
// was written through a macro (cc/v4 reports macro-expanded tokens at the
// invocation; cparse re-lexes the invocation text to recover them).
type Arg struct {
	Expr cc.ExpressionNode
	Span Span
	Text string // source text of the argument as the user wrote it
}

// Call is a call site inside a function body.
type Call struct {
	Name     string         // resolved callee, e.g. "bpf_rbtree_add_impl"
	Spelled  string         // what the user typed, e.g. "bpf_rbtree_add" (a macro); == Name when no macro
	Callee   *cc.Declarator // nil for calls through expressions
	Expr     *cc.PostfixExpression
	Span     Span // the whole call as written, "name(...)"
	NameSpan Span // the callee name as written
	Args     []Arg
}

// Func is a function definition.
type Func struct {
	Name     string
	Span     Span // the function name
	BodySpan Span // from '{' to '}' inclusive
	Def      *cc.FunctionDefinition
	Static   bool
	Section  string  // SEC("...") of a program, "" for a subprogram
	Calls    []*Call // in source order
	// Idents are the identifiers the body uses as operands (variables,
	// functions, enumerators), in source order: the analysis reads them
	// for every function on every edit, and one walk here serves it.
	Idents []*cc.PrimaryExpression
}

// File is the result of parsing one main file.
type File struct {
	Path string
	Src  []byte // the main file's text as parsed (overlay or disk)

	// AST is the type-checked translation unit. When the source has errors,
	// cparse blanks the offending function bodies / declarations and
	// re-translates, so AST stays usable for the rest of the file; it is nil
	// only when nothing could be recovered.
	AST    *cc.AST
	Errors []Error

	Vars    []*Var
	Structs map[string]*Struct // by tag name
	Funcs   []*Func

	// Flags are the effective clang flags for this file (include search,
	// macros, forced includes), to compile it as it was parsed; FlagsSource
	// says where they came from (see CompileFlags).
	Flags       []string
	FlagsSource string

	src   *sources // texts of the files positions point into
	calls map[*cc.PostfixExpression]*Call
	funcs map[string]*Func // Funcs by name, once the model is built (see Func)
	spans *spanMemo        // first and last tokens of the nodes SpanOf has walked
	// sighted is the preamble region this parse counted as first seen: its
	// retry rounds (on copies of the File) are the same parse, not the
	// second one a build needs.
	sighted *string

	projectFiles map[string]bool // isProjectFile's answers, while the model is built
	pre          *preamble       // the preamble AST resumed from, nil for a whole translation

	funcDoc *funcDoc                         // the per-function translation, until keepFuncDoc keeps it
	reuse   map[*cc.FunctionDefinition]*Func // the last parse's models of unchanged functions
	// argTexts are the call arguments' texts by span, while the model is
	// built: every argument a macro makes up spans its whole invocation.
	argTexts map[Span]string
}

package analysis

import (
	"modernc.org/cc/v4"
)

// A cfg is the control-flow graph of one function body. Blocks hold atoms
// (expressions and declarations evaluated in order); edges may carry the
// condition they depend on, so the dataflow can refine state on each branch
// (NULL checks, bpf_res_spin_lock results).
type cfg struct {
	entry, exit *block
	blocks      []*block
	loopHead    []bool // by block index: the target of a back edge
}

type block struct {
	index int
	atoms []atom
	succs []edge
	preds []*block
}

type atomKind int

const (
	atomExpr   atomKind = iota // an expression statement or a condition
	atomDecl                   // a local declaration (with initializers)
	atomReturn                 // a return statement (node is the *cc.JumpStatement)
	atomEnd                    // falling off the end of the body (node is the body)
)

type atom struct {
	kind atomKind
	node cc.Node
}

type edge struct {
	to   *block
	cond cc.ExpressionNode // nil: unconditional
	when bool              // taken when cond evaluates to true (non-zero)
}

// cfgBuilder turns structured statements into blocks.
type cfgBuilder struct {
	g         *cfg
	cur       *block
	breaks    []*block
	continues []*block
	labels    map[string]*block
	switches  []*switchCtx
}

type switchCtx struct {
	head       *block
	hasDefault bool
}

func buildCFG(body *cc.CompoundStatement) *cfg {
	b := &cfgBuilder{g: &cfg{}, labels: map[string]*block{}}
	b.g.entry = b.newBlock()
	b.g.exit = &block{index: -1}
	b.cur = b.g.entry
	b.compound(body)
	b.cur.atoms = append(b.cur.atoms, atom{kind: atomEnd, node: body})
	b.jump(b.g.exit)
	b.g.exit.index = len(b.g.blocks)
	b.g.blocks = append(b.g.blocks, b.g.exit)
	b.g.markLoopHeads()
	return b.g
}

// markLoopHeads finds the targets of back edges (loops, backward gotos) by
// a depth-first walk from the entry.
func (g *cfg) markLoopHeads() {
	g.loopHead = make([]bool, len(g.blocks))
	const (
		unseen = iota
		onStack
		done
	)
	color := make([]int, len(g.blocks))
	type frame struct {
		bl   *block
		next int
	}
	stack := []frame{{g.entry, 0}}
	color[g.entry.index] = onStack
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.bl.succs) {
			color[top.bl.index] = done
			stack = stack[:len(stack)-1]
			continue
		}
		to := top.bl.succs[top.next].to
		top.next++
		switch color[to.index] {
		case onStack:
			g.loopHead[to.index] = true
		case unseen:
			color[to.index] = onStack
			stack = append(stack, frame{to, 0})
		}
	}
}

func (b *cfgBuilder) newBlock() *block {
	bl := &block{index: len(b.g.blocks)}
	b.g.blocks = append(b.g.blocks, bl)
	return bl
}

func link(from, to *block, cond cc.ExpressionNode, when bool) {
	from.succs = append(from.succs, edge{to: to, cond: cond, when: when})
	to.preds = append(to.preds, from)
}

// jump ends the current block with an unconditional edge to to and
// continues in a fresh (unreachable until linked) block.
func (b *cfgBuilder) jump(to *block) {
	link(b.cur, to, nil, false)
	b.cur = b.newBlock()
}

func (b *cfgBuilder) startAt(bl *block) {
	link(b.cur, bl, nil, false)
	b.cur = bl
}

func (b *cfgBuilder) label(name string) *block {
	if bl, ok := b.labels[name]; ok {
		return bl
	}
	bl := b.newBlock()
	b.labels[name] = bl
	return bl
}

func (b *cfgBuilder) compound(cs *cc.CompoundStatement) {
	if cs == nil {
		return
	}
	for l := cs.BlockItemList; l != nil; l = l.BlockItemList {
		it := l.BlockItem
		if it == nil {
			continue
		}
		switch it.Case {
		case cc.BlockItemDecl:
			if it.Declaration != nil {
				b.cur.atoms = append(b.cur.atoms, atom{kind: atomDecl, node: it.Declaration})
			}
		case cc.BlockItemStmt:
			b.stmt(it.Statement)
		}
	}
}

func (b *cfgBuilder) stmt(s *cc.Statement) {
	if s == nil {
		return
	}
	switch s.Case {
	case cc.StatementCompound:
		b.compound(s.CompoundStatement)
	case cc.StatementExpr:
		if s.ExpressionStatement != nil && s.ExpressionStatement.ExpressionList != nil {
			b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: s.ExpressionStatement.ExpressionList})
		}
	case cc.StatementSelection:
		b.selection(s.SelectionStatement)
	case cc.StatementIteration:
		b.iteration(s.IterationStatement)
	case cc.StatementJump:
		b.jumpStmt(s.JumpStatement)
	case cc.StatementLabeled:
		b.labeled(s.LabeledStatement)
	}
}

func (b *cfgBuilder) selection(s *cc.SelectionStatement) {
	after := b.newBlock()
	switch s.Case {
	case cc.SelectionStatementIf, cc.SelectionStatementIfElse:
		then, els := b.newBlock(), after
		if s.Case == cc.SelectionStatementIfElse {
			els = b.newBlock()
		}
		b.cond(s.ExpressionList, then, els)
		b.cur = then
		b.stmt(s.Statement)
		b.startAt(after)
		if s.Case == cc.SelectionStatementIfElse {
			b.cur = els
			b.stmt(s.Statement2)
			b.startAt(after)
		}
	case cc.SelectionStatementSwitch:
		b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: s.ExpressionList})
		ctx := &switchCtx{head: b.cur}
		b.switches = append(b.switches, ctx)
		b.breaks = append(b.breaks, after)
		b.cur = b.newBlock() // code before the first label is unreachable
		b.stmt(s.Statement)
		b.startAt(after)
		b.breaks = b.breaks[:len(b.breaks)-1]
		b.switches = b.switches[:len(b.switches)-1]
		if !ctx.hasDefault {
			link(ctx.head, after, nil, false)
		}
	}
}

func (b *cfgBuilder) iteration(s *cc.IterationStatement) {
	after := b.newBlock()
	switch s.Case {
	case cc.IterationStatementWhile:
		head, body := b.newBlock(), b.newBlock()
		b.startAt(head)
		b.cond(s.ExpressionList, body, after)
		b.loopBody(body, head, after, s.Statement)
		b.startAt(head)
	case cc.IterationStatementDo:
		body, check := b.newBlock(), b.newBlock()
		b.startAt(body)
		b.loopBody(body, check, after, s.Statement)
		b.startAt(check)
		b.cond(s.ExpressionList, body, after)
	case cc.IterationStatementFor, cc.IterationStatementForDecl:
		if s.Declaration != nil {
			b.cur.atoms = append(b.cur.atoms, atom{kind: atomDecl, node: s.Declaration})
		} else if s.ExpressionList != nil {
			b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: s.ExpressionList})
		}
		head, body, post := b.newBlock(), b.newBlock(), b.newBlock()
		b.startAt(head)
		if s.ExpressionList2 != nil {
			b.cond(s.ExpressionList2, body, after)
		} else {
			link(b.cur, body, nil, false)
		}
		b.loopBody(body, post, after, s.Statement)
		b.startAt(post)
		if s.ExpressionList3 != nil {
			b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: s.ExpressionList3})
		}
		link(b.cur, head, nil, false)
	}
	b.cur = after
}

func (b *cfgBuilder) loopBody(body, cont, brk *block, s *cc.Statement) {
	b.cur = body
	b.breaks = append(b.breaks, brk)
	b.continues = append(b.continues, cont)
	b.stmt(s)
	b.breaks = b.breaks[:len(b.breaks)-1]
	b.continues = b.continues[:len(b.continues)-1]
}

func (b *cfgBuilder) jumpStmt(s *cc.JumpStatement) {
	switch s.Case {
	case cc.JumpStatementGoto:
		b.jump(b.label(s.Token2.SrcStr()))
	case cc.JumpStatementContinue:
		if n := len(b.continues); n > 0 {
			b.jump(b.continues[n-1])
		}
	case cc.JumpStatementBreak:
		if n := len(b.breaks); n > 0 {
			b.jump(b.breaks[n-1])
		}
	case cc.JumpStatementReturn:
		b.cur.atoms = append(b.cur.atoms, atom{kind: atomReturn, node: s})
		b.jump(b.g.exit)
	default: // computed goto: no BPF program has one; treat as leaving the function
		b.jump(b.g.exit)
	}
}

func (b *cfgBuilder) labeled(s *cc.LabeledStatement) {
	switch s.Case {
	case cc.LabeledStatementLabel:
		b.startAt(b.label(s.Token.SrcStr()))
	case cc.LabeledStatementCaseLabel, cc.LabeledStatementRange, cc.LabeledStatementDefault:
		bl := b.newBlock()
		b.startAt(bl) // fallthrough from the previous case
		if n := len(b.switches); n > 0 {
			ctx := b.switches[n-1]
			link(ctx.head, bl, nil, false)
			if s.Case == cc.LabeledStatementDefault {
				ctx.hasDefault = true
			}
		}
	}
	b.stmt(s.Statement)
}

// cond evaluates a controlling expression and branches to t or f. && and ||
// short-circuit into separate blocks; ! swaps the targets; parentheses are
// looked through.
func (b *cfgBuilder) cond(e cc.ExpressionNode, t, f *block) {
	switch x := e.(type) {
	case *cc.ExpressionList:
		// a, b, c: evaluate all but the last, branch on the last.
		for ; x.ExpressionList != nil; x = x.ExpressionList {
			b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: x.AssignmentExpression})
		}
		b.cond(x.AssignmentExpression, t, f)
		return
	case *cc.PrimaryExpression:
		if x.Case == cc.PrimaryExpressionExpr {
			b.cond(x.ExpressionList, t, f)
			return
		}
	case *cc.UnaryExpression:
		if x.Case == cc.UnaryExpressionNot {
			b.cond(x.CastExpression, f, t)
			return
		}
	case *cc.LogicalAndExpression:
		if x.Case == cc.LogicalAndExpressionLAnd {
			mid := b.newBlock()
			b.cond(x.LogicalAndExpression, mid, f)
			b.cur = mid
			b.cond(x.InclusiveOrExpression, t, f)
			return
		}
	case *cc.LogicalOrExpression:
		if x.Case == cc.LogicalOrExpressionLOr {
			mid := b.newBlock()
			b.cond(x.LogicalOrExpression, t, mid)
			b.cur = mid
			b.cond(x.LogicalAndExpression, t, f)
			return
		}
	}
	b.cur.atoms = append(b.cur.atoms, atom{kind: atomExpr, node: e})
	link(b.cur, t, e, true)
	link(b.cur, f, e, false)
	b.cur = b.newBlock()
}

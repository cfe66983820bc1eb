/*
 * Tags of one file with tree-sitter: definitions (with signature line and
 * line range) and the identifiers referenced. One walk of the syntax tree
 * with a cursor; node kinds are compared as symbol ids resolved once per
 * language, not as strings.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tree_sitter/api.h>

#include "warden/buf.h"
#include "warden/error.h"

#include "tags.h"

const TSLanguage *tree_sitter_c(void);
const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_rust(void);

#define SIG_MAX 200
#define TS_ERROR_SYMBOL ((TSSymbol)-1)

struct wd_parsers {
	TSParser *p[WD_LANG_COUNT];
};

/* Symbols and fields of both grammars; a 0 means "not in this grammar". */
struct syms {
	TSSymbol function_definition, declaration, type_definition, struct_specifier,
		union_specifier, enum_specifier, preproc_def, preproc_function_def, enumerator,
		identifier, type_identifier, field_identifier, function_declarator,
		pointer_declarator, array_declarator, parenthesized_declarator,
		attributed_declarator, init_declarator, class_definition, decorated_definition,
		block, module, expression_statement, assignment, translation_unit, preproc_if,
		preproc_ifdef, preproc_else, preproc_elif, linkage_specification, declaration_list,
		opaque;  /* a node whose inside names nothing: C's string literal */
	TSFieldId f_declarator, f_name, f_body, f_left, f_value;
};

static struct syms S[WD_LANG_COUNT];
static pthread_once_t syms_once = PTHREAD_ONCE_INIT;

static const TSLanguage *language(int lang)
{
	switch (lang) {
	case WD_LANG_C: return tree_sitter_c();
	case WD_LANG_PYTHON: return tree_sitter_python();
	case WD_LANG_GO: return tree_sitter_go();
	case WD_LANG_JS: return tree_sitter_javascript();
	case WD_LANG_RUST: return tree_sitter_rust();
	default: return NULL;
	}
}

static TSSymbol sym(const TSLanguage *l, const char *name)
{
	return ts_language_symbol_for_name(l, name, (uint32_t)strlen(name), true);
}

static TSFieldId field(const TSLanguage *l, const char *name)
{
	return ts_language_field_id_for_name(l, name, (uint32_t)strlen(name));
}

/*
 * Go, JavaScript and Rust are described by tables: node type -> kind, with
 * a few flags for what depends on the context.
 */
enum {
	R_BODY_SIG = 1,        /* the signature runs up to the body */
	R_TOP = 2,             /* only outside functions */
	R_METHOD_IN_IMPL = 4,  /* a method when directly inside an impl/trait body (Rust) */
	R_JS_VALUE = 8,        /* a function when its value is a function (JS declarator) */
	R_GO_TYPE = 16         /* struct/interface by its type (Go type_spec) */
};

struct rule_src {
	const char *type;
	uint8_t kind;
	uint8_t flags;
};

struct lang_table {
	const struct rule_src *rules;
	const char *const *refs;  /* identifier node types counted as references */
	const char *const *fns;   /* node types that open a function body */
};

static const struct rule_src GO_RULES[] = {
	{ "function_declaration", WD_TAG_FUNCTION, R_BODY_SIG },
	{ "method_declaration", WD_TAG_METHOD, R_BODY_SIG },
	{ "type_spec", WD_TAG_TYPEDEF, R_GO_TYPE },
	{ "type_alias", WD_TAG_TYPEDEF, 0 },
	{ "const_spec", WD_TAG_CONSTANT, R_TOP },
	{ "var_spec", WD_TAG_VARIABLE, R_TOP },
	{ NULL, 0, 0 }
};
static const char *const GO_REFS[] = { "identifier", "type_identifier", "field_identifier", NULL };
static const char *const GO_FNS[] = { "function_declaration", "method_declaration", "func_literal",
	                              NULL };

static const struct rule_src JS_RULES[] = {
	{ "function_declaration", WD_TAG_FUNCTION, R_BODY_SIG },
	{ "generator_function_declaration", WD_TAG_FUNCTION, R_BODY_SIG },
	{ "class_declaration", WD_TAG_CLASS, R_BODY_SIG },
	{ "method_definition", WD_TAG_METHOD, R_BODY_SIG },
	{ "variable_declarator", WD_TAG_VARIABLE, R_TOP | R_JS_VALUE },
	{ NULL, 0, 0 }
};
static const char *const JS_REFS[] = { "identifier", "property_identifier", NULL };
static const char *const JS_FNS[] = { "function_declaration", "generator_function_declaration",
	                              "function_expression", "arrow_function", "method_definition",
	                              NULL };

static const struct rule_src RUST_RULES[] = {
	{ "function_item", WD_TAG_FUNCTION, R_BODY_SIG | R_METHOD_IN_IMPL },
	{ "function_signature_item", WD_TAG_PROTOTYPE, 0 },
	{ "struct_item", WD_TAG_STRUCT, 0 },
	{ "enum_item", WD_TAG_ENUM, 0 },
	{ "union_item", WD_TAG_UNION, 0 },
	{ "trait_item", WD_TAG_INTERFACE, R_BODY_SIG },
	{ "type_item", WD_TAG_TYPEDEF, 0 },
	{ "const_item", WD_TAG_CONSTANT, R_TOP },
	{ "static_item", WD_TAG_VARIABLE, R_TOP },
	{ "macro_definition", WD_TAG_MACRO, 0 },
	{ "mod_item", WD_TAG_MODULE, R_BODY_SIG },
	{ NULL, 0, 0 }
};
static const char *const RUST_REFS[] = { "identifier", "type_identifier", "field_identifier", NULL };
static const char *const RUST_FNS[] = { "function_item", "closure_expression", NULL };

#define MAX_RULES 16

struct rules {
	TSSymbol sym[MAX_RULES];
	uint8_t kind[MAX_RULES], flags[MAX_RULES];
	size_t n;
	TSSymbol refs[4], fns[6];
	size_t nrefs, nfns;
	TSFieldId f_value, f_type;
	TSSymbol arrow_function, function_expression, struct_type, interface_type,
		declaration_list, impl_item, trait_item;
};

static struct rules R[WD_LANG_COUNT];

static void init_rules(int lang, const struct lang_table *t)
{
	const TSLanguage *l = language(lang);
	struct rules *r = &R[lang];

	for (size_t i = 0; t->rules[i].type && r->n < MAX_RULES; i++) {
		r->sym[r->n] = sym(l, t->rules[i].type);
		r->kind[r->n] = t->rules[i].kind;
		r->flags[r->n] = t->rules[i].flags;
		r->n++;
	}
	for (size_t i = 0; t->refs[i] && r->nrefs < 4; i++)
		r->refs[r->nrefs++] = sym(l, t->refs[i]);
	for (size_t i = 0; t->fns[i] && r->nfns < 6; i++)
		r->fns[r->nfns++] = sym(l, t->fns[i]);
	r->f_value = field(l, "value");
	r->f_type = field(l, "type");
	r->arrow_function = sym(l, "arrow_function");
	r->function_expression = sym(l, "function_expression");
	r->struct_type = sym(l, "struct_type");
	r->interface_type = sym(l, "interface_type");
	r->declaration_list = sym(l, "declaration_list");
	r->impl_item = sym(l, "impl_item");
	r->trait_item = sym(l, "trait_item");
}

static void init_syms(void)
{
	static const struct lang_table go = { GO_RULES, GO_REFS, GO_FNS };
	static const struct lang_table js = { JS_RULES, JS_REFS, JS_FNS };
	static const struct lang_table rust = { RUST_RULES, RUST_REFS, RUST_FNS };

	for (int lang = 1; lang < WD_LANG_COUNT; lang++) {
		const TSLanguage *l = language(lang);
		struct syms *s = &S[lang];

		s->function_definition = sym(l, "function_definition");
		s->declaration = sym(l, "declaration");
		s->type_definition = sym(l, "type_definition");
		s->struct_specifier = sym(l, "struct_specifier");
		s->union_specifier = sym(l, "union_specifier");
		s->enum_specifier = sym(l, "enum_specifier");
		s->preproc_def = sym(l, "preproc_def");
		s->preproc_function_def = sym(l, "preproc_function_def");
		s->enumerator = sym(l, "enumerator");
		s->identifier = sym(l, "identifier");
		s->type_identifier = sym(l, "type_identifier");
		s->field_identifier = sym(l, "field_identifier");
		s->function_declarator = sym(l, "function_declarator");
		s->pointer_declarator = sym(l, "pointer_declarator");
		s->array_declarator = sym(l, "array_declarator");
		s->parenthesized_declarator = sym(l, "parenthesized_declarator");
		s->attributed_declarator = sym(l, "attributed_declarator");
		s->init_declarator = sym(l, "init_declarator");
		s->class_definition = sym(l, "class_definition");
		s->decorated_definition = sym(l, "decorated_definition");
		s->block = sym(l, "block");
		s->module = sym(l, "module");
		s->expression_statement = sym(l, "expression_statement");
		s->assignment = sym(l, "assignment");
		s->translation_unit = sym(l, "translation_unit");
		s->preproc_if = sym(l, "preproc_if");
		s->preproc_ifdef = sym(l, "preproc_ifdef");
		s->preproc_else = sym(l, "preproc_else");
		s->preproc_elif = sym(l, "preproc_elif");
		s->linkage_specification = sym(l, "linkage_specification");
		s->declaration_list = sym(l, "declaration_list");
		s->opaque = lang == WD_LANG_C ? sym(l, "string_literal") : 0;
		s->f_declarator = field(l, "declarator");
		s->f_name = field(l, "name");
		s->f_body = field(l, "body");
		s->f_left = field(l, "left");
		s->f_value = field(l, "value");
	}
	init_rules(WD_LANG_GO, &go);
	init_rules(WD_LANG_JS, &js);
	init_rules(WD_LANG_RUST, &rust);
}

int wd_lang_id_for_path(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return WD_LANG_NONE;
	if (!strcmp(dot, ".c") || !strcmp(dot, ".h"))
		return WD_LANG_C;
	if (!strcmp(dot, ".py") || !strcmp(dot, ".pyi"))
		return WD_LANG_PYTHON;
	if (!strcmp(dot, ".go"))
		return WD_LANG_GO;
	if (!strcmp(dot, ".js") || !strcmp(dot, ".mjs") || !strcmp(dot, ".cjs") || !strcmp(dot, ".jsx"))
		return WD_LANG_JS;
	if (!strcmp(dot, ".rs"))
		return WD_LANG_RUST;
	return WD_LANG_NONE;
}

const char *wd_lang_for_path(const char *path)
{
	switch (wd_lang_id_for_path(path)) {
	case WD_LANG_C: return "c";
	case WD_LANG_PYTHON: return "python";
	case WD_LANG_GO: return "go";
	case WD_LANG_JS: return "javascript";
	case WD_LANG_RUST: return "rust";
	default: return NULL;
	}
}

const char *wd_tag_kind_name(wd_tag_kind k)
{
	static const char *const names[WD_TAG_KIND_COUNT] = {
		"function", "prototype", "struct", "union", "enum", "typedef",
		"macro", "class", "method", "variable", "constant", "interface", "module"
	};

	return (unsigned)k < WD_TAG_KIND_COUNT ? names[k] : "unknown";
}

int wd_parsers_new(wd_parsers **out)
{
	wd_parsers *p;

	pthread_once(&syms_once, init_syms);
	if (!(p = calloc(1, sizeof(*p))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (int lang = 1; lang < WD_LANG_COUNT; lang++) {
		if (!(p->p[lang] = ts_parser_new()) || !ts_parser_set_language(p->p[lang], language(lang))) {
			wd_parsers_free(p);
			return wd_error_set(WD_EINFRA, "tree-sitter: cannot load grammar %d (ABI %u)", lang,
			                    ts_language_version(language(lang)));
		}
	}
	*out = p;
	return 0;
}

void wd_parsers_free(wd_parsers *p)
{
	if (!p)
		return;
	for (int lang = 1; lang < WD_LANG_COUNT; lang++)
		if (p->p[lang])
			ts_parser_delete(p->p[lang]);
	free(p);
}

void wd_tagset_free(wd_tagset *ts)
{
	for (size_t i = 0; i < ts->ndefs && !ts->arena; i++) {
		free(ts->defs[i].name);
		free(ts->defs[i].sig);
	}
	for (size_t i = 0; i < ts->nrefs && !ts->arena; i++)
		free(ts->refs[i].name);
	if (!ts->borrowed)
		free(ts->arena);
	if (!ts->arena)
		free(ts->regions);
	free(ts->defs);
	free(ts->refs);
	memset(ts, 0, sizeof(*ts));
}

/* --- extraction --- */

struct ex {
	wd_tagset *ts;
	const struct syms *s;
	const struct rules *r;   /* NULL for C and Python */
	const char *src;
	size_t len;
	wd_strtab refs;      /* names referenced in this file */
	uint32_t *counts;
	size_t ncounts;
	uint32_t names[16];  /* start bytes of the latest definitions' names: not references */
	unsigned nnames;
	int err;
	wd_regions *rg;      /* when set: the regions, one per top-level node */
	uint32_t rg_first;   /* where the first region starts: 0 for a whole file */
	size_t rg_def0;      /* the file's definitions when the current region began */
	struct rg_seen {
		uint32_t last;   /* 1 + the region that last counted the reference */
		uint32_t slot;   /* its use in that region */
	} *rg_seen;          /* per reference id */
	size_t rg_cap;
};

/* Signature text of src[a..b): whitespace runs collapsed, capped. */
/* Append c to the signature (control characters as blanks). */
static void sig_put(char *out, size_t *n, char c)
{
	if (*n < SIG_MAX)
		out[(*n)++] = (unsigned char)c < 0x20 ? ' ' : c;
}

/* One source line of a declaration, blanks collapsed outside string and
 * character literals, a trailing continuation backslash dropped. */
static void sig_line(char *out, size_t *n, const char *s, size_t len)
{
	char quote = 0;
	int space = 0;

	if (len && s[len - 1] == '\\')
		len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (quote) {
			sig_put(out, n, c);
			if (c == '\\' && i + 1 < len)
				sig_put(out, n, s[++i]);
			else if (c == quote)
				quote = 0;
			continue;
		}
		if (c == ' ' || c == '\t') {
			space = 1;
			continue;
		}
		if (space)
			sig_put(out, n, ' ');
		space = 0;
		if (c == '"' || c == '\'')
			quote = c;
		sig_put(out, n, c);
	}
}

/*
 * The signature: the source text of the declaration's lines [a, b), each
 * line's blanks collapsed (never inside a literal: "\n" stays "\n"), the
 * lines joined by one space, except preprocessor lines (#if, #endif...)
 * which keep a line of their own ('\n' separated).
 */
static char *sig_text(const char *src, uint32_t a, uint32_t b)
{
	char *out;
	size_t n = 0;
	int prev_pp = 0;

	if (b - a > SIG_MAX * 4)
		b = a + SIG_MAX * 4;
	if (!(out = malloc(SIG_MAX + 4)))
		return NULL;
	for (uint32_t i = a; i < b && n < SIG_MAX;) {
		const char *nl = memchr(src + i, '\n', b - i);
		uint32_t e = nl ? (uint32_t)(nl - src) : b;
		const char *s = src + i;
		size_t len = e - i;
		int pp;

		while (len && (*s == ' ' || *s == '\t' || *s == '\r')) {
			s++;
			len--;
		}
		while (len && s[len - 1] == '\r')
			len--;
		i = nl ? e + 1 : b;
		if (!len)
			continue;
		pp = s[0] == '#';
		if (n && n < SIG_MAX)
			out[n++] = (pp || prev_pp) ? '\n' : ' ';
		sig_line(out, &n, s, len);
		prev_pp = pp;
	}
	if (n >= SIG_MAX) {
		memcpy(out + SIG_MAX - 3, "...", 3);
		n = SIG_MAX;
	}
	out[n] = '\0';
	return out;
}

static uint32_t first_line_end(const struct ex *x, uint32_t a, uint32_t b)
{
	const char *nl = memchr(x->src + a, '\n', b - a);

	return nl ? (uint32_t)(nl - x->src) : b;
}

static void add_def(struct ex *x, TSNode node, TSNode name, wd_tag_kind kind, uint32_t sig_end)
{
	wd_tag *t;
	TSPoint sp = ts_node_start_point(node), ep = ts_node_end_point(node);
	uint32_t na = ts_node_start_byte(name), nb = ts_node_end_byte(name);

	if (x->err || nb <= na || nb - na > 200)
		return;
	/* a name is one token: anything else is tree-sitter recovering from an error */
	for (uint32_t i = na; i < nb; i++)
		if ((unsigned char)x->src[i] <= ' ')
			return;
	if ((x->err = WD_ARRAY_RESERVE(x->ts->defs, x->ts->capdefs, x->ts->ndefs + 1, 16)) != 0)
		return;
	t = &x->ts->defs[x->ts->ndefs];
	t->name = wd_strndup(x->src + na, nb - na);
	t->sig = sig_text(x->src, ts_node_start_byte(node), sig_end);
	if (!t->name || !t->sig) {
		free(t->name);
		free(t->sig);
		x->err = wd_error_set(WD_ENOMEM, "out of memory");
		return;
	}
	x->names[x->nnames++ % 16] = na;
	t->kind = (uint8_t)kind;
	t->start = sp.row + 1;
	t->end = (ep.column == 0 && ep.row > sp.row) ? ep.row : ep.row + 1;
	x->ts->ndefs++;
}

/* Count reference `id` in the current region too. */
static void region_use(struct ex *x, uint32_t id)
{
	wd_regions *rg = x->rg;
	uint32_t cur = (uint32_t)rg->n;

	if (id >= x->rg_cap) {
		size_t old = x->rg_cap;

		if ((x->err = WD_ARRAY_RESERVE(x->rg_seen, x->rg_cap, (size_t)id + 1, 64)) != 0)
			return;
		memset(x->rg_seen + old, 0, (x->rg_cap - old) * sizeof(*x->rg_seen));
	}
	if (x->rg_seen[id].last == cur) {
		rg->uses[x->rg_seen[id].slot].count++;
		return;
	}
	if ((x->err = WD_ARRAY_RESERVE(rg->uses, rg->capuses, rg->nuses + 1, 64)) != 0)
		return;
	x->rg_seen[id].last = cur;
	x->rg_seen[id].slot = (uint32_t)rg->nuses;
	rg->uses[rg->nuses++] = (wd_region_use){ id, 1 };
	rg->v[cur - 1].nuses++;
}

/* The definitions of the region that ends here. */
static void region_close(struct ex *x)
{
	if (x->rg->n)
		x->rg->v[x->rg->n - 1].ndefs = (uint32_t)(x->ts->ndefs - x->rg_def0);
}

/* A top-level node at `start`: a new region (the first one starts at rg_first). */
static void region_begin(struct ex *x, uint32_t start)
{
	wd_regions *rg = x->rg;

	if (!rg->n)
		start = x->rg_first == 0 ? 0 : start;
	else if (start <= rg->v[rg->n - 1].start)
		return;
	region_close(x);
	if ((x->err = WD_ARRAY_RESERVE(rg->v, rg->cap, rg->n + 1, 16)) != 0)
		return;
	rg->v[rg->n++] = (wd_region){ start, 0, (uint32_t)rg->nuses, 0, 0 };
	x->rg_def0 = x->ts->ndefs;
}

static void add_ref(struct ex *x, TSNode node)
{
	uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node), id;

	if (x->err || b <= a || b - a > 200)
		return;
	for (uint32_t i = a; i < b; i++)
		if ((unsigned char)x->src[i] <= ' ')
			return;
	for (unsigned i = 0; i < 16 && i < x->nnames; i++)
		if (x->names[i] == a)
			return;
	if ((x->err = wd_strtab_intern(&x->refs, x->src + a, b - a, &id)) != 0)
		return;
	if (id >= x->ncounts) {
		size_t old = x->ncounts;

		/* every counter up to the capacity is live: zero the new ones */
		if ((x->err = WD_ARRAY_RESERVE(x->counts, x->ncounts, (size_t)id + 1, 64)) != 0)
			return;
		memset(x->counts + old, 0, (x->ncounts - old) * sizeof(*x->counts));
	}
	x->counts[id]++;
	if (x->rg && x->rg->n)
		region_use(x, id);
}

/* The name a C declarator declares, and whether it declares a function
 * (the wrapper closest to the name is a function declarator). */
static TSNode c_declarator_name(const struct syms *s, TSNode d, int *is_func)
{
	int closest_func = 0;

	for (int guard = 0; guard < 64 && !ts_node_is_null(d); guard++) {
		TSSymbol k = ts_node_symbol(d);

		if (k == s->identifier || k == s->type_identifier || k == s->field_identifier) {
			*is_func = closest_func;
			return d;
		}
		if (k == s->function_declarator || k == s->pointer_declarator ||
		    k == s->array_declarator || k == s->init_declarator) {
			closest_func = k == s->function_declarator;
			d = ts_node_child_by_field_id(d, s->f_declarator);
		} else if (k == s->parenthesized_declarator || k == s->attributed_declarator) {
			TSNode c = ts_node_named_child(d, 0);

			if (!ts_node_is_null(c) && !strcmp(ts_node_type(c), "ms_call_modifier"))
				c = ts_node_named_child(d, 1);
			d = c;
		} else {
			break;
		}
	}
	*is_func = 0;
	return (TSNode){ { 0, 0, 0, 0 }, NULL, NULL };
}

/* Every `declarator:` child of a declaration or typedef. */
static void c_declarators(struct ex *x, TSNode node, int typedef_)
{
	TSTreeCursor c = ts_tree_cursor_new(node);
	uint32_t end = ts_node_end_byte(node);

	if (ts_tree_cursor_goto_first_child(&c)) {
		do {
			TSNode name;
			int is_func;

			if (ts_tree_cursor_current_field_id(&c) != x->s->f_declarator)
				continue;
			name = c_declarator_name(x->s, ts_tree_cursor_current_node(&c), &is_func);
			if (ts_node_is_null(name))
				continue;
			/* a prototype's attributes and parameters may span lines: keep them all */
			add_def(x, node, name,
			        typedef_ ? WD_TAG_TYPEDEF : is_func ? WD_TAG_PROTOTYPE : WD_TAG_VARIABLE,
			        !typedef_ && is_func ? end : first_line_end(x, ts_node_start_byte(node), end));
		} while (ts_tree_cursor_goto_next_sibling(&c));
	}
	ts_tree_cursor_delete(&c);
}

/* A declaration at file scope: its parent is the file or a preprocessor
 * conditional (not a function body, and not an ERROR node, where tree-sitter
 * has lost track of what encloses it). */
static int at_file_scope(const struct syms *s, const TSSymbol *stk, size_t d, int in_function)
{
	TSSymbol p;

	if (in_function || d == 0)
		return 0;
	p = stk[d - 1];
	return p == s->translation_unit || p == s->preproc_if || p == s->preproc_ifdef ||
	       p == s->preproc_else || p == s->preproc_elif || p == s->linkage_specification ||
	       p == s->declaration_list;
}

/* `#define FOO_H` with no value: an include guard, which defines nothing a
 * reader needs (and would rank with its much-included header). */
static int include_guard(const struct ex *x, TSNode n, TSNode name)
{
	uint32_t a = ts_node_start_byte(name), b = ts_node_end_byte(name);
	static const char *const ends[] = { "_H", "_H_", "_H__", "_INCLUDED", "_INCLUDED_" };

	if (!ts_node_is_null(ts_node_child_by_field_id(n, x->s->f_value)))
		return 0;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t l = strlen(ends[i]);

		if (b - a > l && !memcmp(x->src + b - l, ends[i], l))
			return 1;
	}
	return 0;
}

static void visit_c(struct ex *x, TSNode n, TSSymbol k, const TSSymbol *stk, size_t d,
                    int in_function)
{
	const struct syms *s = x->s;
	uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);

	if (k == s->identifier || k == s->type_identifier) {
		add_ref(x, n);
	} else if (k == s->function_definition) {
		TSNode body = ts_node_child_by_field_id(n, s->f_body);
		int is_func;
		TSNode name = c_declarator_name(s, ts_node_child_by_field_id(n, s->f_declarator), &is_func);

		if (!ts_node_is_null(name))
			add_def(x, n, name, WD_TAG_FUNCTION,
			        ts_node_is_null(body) ? first_line_end(x, a, b) : ts_node_start_byte(body));
	} else if (k == s->declaration && at_file_scope(s, stk, d, in_function)) {
		c_declarators(x, n, 0);
	} else if (k == s->type_definition) {
		c_declarators(x, n, 1);
	} else if (k == s->struct_specifier || k == s->union_specifier || k == s->enum_specifier) {
		TSNode name = ts_node_child_by_field_id(n, s->f_name);

		if (!ts_node_is_null(name) && !ts_node_is_null(ts_node_child_by_field_id(n, s->f_body)))
			add_def(x, n, name,
			        k == s->struct_specifier ? WD_TAG_STRUCT :
			        k == s->union_specifier ? WD_TAG_UNION : WD_TAG_ENUM,
			        first_line_end(x, a, b));
	} else if (k == s->preproc_def || k == s->preproc_function_def) {
		TSNode name = ts_node_child_by_field_id(n, s->f_name);

		if (!ts_node_is_null(name) && !(k == s->preproc_def && include_guard(x, n, name)))
			add_def(x, n, name, WD_TAG_MACRO, first_line_end(x, a, b));
	} else if (k == s->enumerator) {
		TSNode name = ts_node_child_by_field_id(n, s->f_name);

		if (!ts_node_is_null(name))
			add_def(x, n, name, WD_TAG_CONSTANT, first_line_end(x, a, b));
	}
}

/* Python: ancestors' symbols are in stk[0..d-1]. */
static void visit_py(struct ex *x, TSNode n, TSSymbol k, const TSSymbol *stk, size_t d)
{
	const struct syms *s = x->s;

	if (k == s->identifier) {
		add_ref(x, n);
	} else if (k == s->function_definition || k == s->class_definition) {
		TSNode name = ts_node_child_by_field_id(n, s->f_name);
		TSNode body = ts_node_child_by_field_id(n, s->f_body);
		uint32_t end = ts_node_is_null(body) ? ts_node_end_byte(n) : ts_node_start_byte(body);
		int method = 0;

		while (end > ts_node_start_byte(n) &&
		       (x->src[end - 1] == ':' || x->src[end - 1] == ' ' || x->src[end - 1] == '\n' ||
		        x->src[end - 1] == '\t' || x->src[end - 1] == '\r'))
			end--;
		if (k == s->function_definition) {
			if (d >= 2 && stk[d - 1] == s->block && stk[d - 2] == s->class_definition)
				method = 1;
			if (d >= 3 && stk[d - 1] == s->decorated_definition && stk[d - 2] == s->block &&
			    stk[d - 3] == s->class_definition)
				method = 1;
		}
		if (!ts_node_is_null(name))
			add_def(x, n, name,
			        k == s->class_definition ? WD_TAG_CLASS : method ? WD_TAG_METHOD : WD_TAG_FUNCTION,
			        end);
	} else if (k == s->assignment && d >= 2 && stk[d - 1] == s->expression_statement &&
	           stk[d - 2] == s->module) {
		TSNode left = ts_node_child_by_field_id(n, s->f_left);

		if (!ts_node_is_null(left) && ts_node_symbol(left) == s->identifier)
			add_def(x, n, left, WD_TAG_VARIABLE,
			        first_line_end(x, ts_node_start_byte(n), ts_node_end_byte(n)));
	}
}

/* Go, JavaScript, Rust: the rule tables. */
static void visit_rules(struct ex *x, TSNode n, TSSymbol k, const TSSymbol *stk, size_t d,
                        int in_function)
{
	const struct rules *r = x->r;
	const struct syms *s = x->s;

	for (size_t i = 0; i < r->nrefs; i++)
		if (k == r->refs[i]) {
			add_ref(x, n);
			return;
		}
	for (size_t i = 0; i < r->n; i++) {
		TSNode name, body;
		wd_tag_kind kind;
		uint32_t a, b, end;

		if (k != r->sym[i])
			continue;
		if ((r->flags[i] & R_TOP) && in_function)
			return;
		name = ts_node_child_by_field_id(n, s->f_name);
		if (ts_node_is_null(name))
			return;
		kind = (wd_tag_kind)r->kind[i];
		a = ts_node_start_byte(n);
		b = ts_node_end_byte(n);
		end = first_line_end(x, a, b);
		if (r->flags[i] & R_BODY_SIG) {
			body = ts_node_child_by_field_id(n, s->f_body);
			if (!ts_node_is_null(body))
				end = ts_node_start_byte(body);
		}
		if ((r->flags[i] & R_METHOD_IN_IMPL) && d >= 2 && stk[d - 1] == r->declaration_list &&
		    (stk[d - 2] == r->impl_item || stk[d - 2] == r->trait_item))
			kind = WD_TAG_METHOD;
		if (r->flags[i] & R_JS_VALUE) {
			TSNode v = ts_node_child_by_field_id(n, r->f_value);
			TSSymbol vk = ts_node_is_null(v) ? 0 : ts_node_symbol(v);

			if (vk && (vk == r->arrow_function || vk == r->function_expression))
				kind = WD_TAG_FUNCTION;
		}
		if (r->flags[i] & R_GO_TYPE) {
			TSNode t = ts_node_child_by_field_id(n, r->f_type);
			TSSymbol tk = ts_node_is_null(t) ? 0 : ts_node_symbol(t);

			if (tk && tk == r->struct_type)
				kind = WD_TAG_STRUCT;
			else if (tk && tk == r->interface_type)
				kind = WD_TAG_INTERFACE;
		}
		while (end > a && (x->src[end - 1] == ' ' || x->src[end - 1] == '\t' ||
		                   x->src[end - 1] == '\n' || x->src[end - 1] == '\r'))
			end--;
		add_def(x, n, name, kind, end);
		return;
	}
}

static int opens_function(const struct ex *x, TSSymbol k)
{
	if (!x->r)
		return k == x->s->function_definition;
	for (size_t i = 0; i < x->r->nfns; i++)
		if (k == x->r->fns[i])
			return 1;
	return 0;
}

static int walk(struct ex *x, TSNode root, int lang)
{
	TSTreeCursor c = ts_tree_cursor_new(root);
	TSSymbol *stk = NULL;
	size_t d = 0, cap = 0;
	int in_function = 0;

	for (;;) {
		TSNode n = ts_tree_cursor_current_node(&c);
		TSSymbol k = ts_node_symbol(n);

		if (d >= cap && (x->err = WD_ARRAY_RESERVE(stk, cap, d + 1, 64)) != 0)
			break;
		stk[d] = k;
		if (d == 1 && x->rg) {
			region_begin(x, ts_node_start_byte(n));
			if (x->rg->n && (ts_node_has_error(n) || ts_node_is_missing(n) ||
			                 k == TS_ERROR_SYMBOL))
				x->rg->v[x->rg->n - 1].error = 1;
		}
		if (lang == WD_LANG_C)
			visit_c(x, n, k, stk, d, in_function);
		else if (lang == WD_LANG_PYTHON)
			visit_py(x, n, k, stk, d);
		else
			visit_rules(x, n, k, stk, d, in_function);
		if (x->err)
			break;
		if (opens_function(x, k))
			in_function++;
		/* a string's quotes, text and escapes: a few nodes each, none a name */
		if ((k != x->s->opaque || !k) && ts_tree_cursor_goto_first_child(&c)) {
			d++;
			continue;
		}
		for (;;) {
			if (opens_function(x, stk[d]))
				in_function--;
			if (ts_tree_cursor_goto_next_sibling(&c))
				break;
			/* depth 0 is the root the cursor started on: the walk is over */
			if (d == 0 || !ts_tree_cursor_goto_parent(&c))
				goto done;
			d--;
		}
	}
done:
	if (x->rg && !x->err)
		region_close(x);
	free(stk);
	ts_tree_cursor_delete(&c);
	return x->err;
}

/*
 * One parse with a fresh external scanner. A reused parser keeps its
 * scanner's state from the previous file: Python's scanner resets its indents
 * but not `inside_f_string` (its deserialize of an empty state leaves it), so
 * a file parsed after one ending inside an f-string lost its definitions, and
 * the syntax gate saw other ERROR nodes in the same text the second time
 * (found by fuzz_syntax). ts_parser_reset does not help: it calls that same
 * deserialize. Setting the language again destroys and re-creates the
 * scanner, which costs next to nothing beside the parse.
 */
static int parse(TSTree **out, wd_parsers *p, int lang, const char *src, size_t len)
{
	*out = NULL;
	if (len > UINT32_MAX)
		return wd_error_set(WD_EINPUT, "file too large to parse");
	if (!ts_parser_set_language(p->p[lang], language(lang)))
		return wd_error_set(WD_EINFRA, "tree-sitter could not load the grammar");
	if (!(*out = ts_parser_parse_string(p->p[lang], NULL, src, (uint32_t)len)))
		return wd_error_set(WD_EINFRA, "tree-sitter could not parse");
	return 0;
}

int wd_tags__take_refs(wd_tagset *out, wd_strtab *refs, const uint32_t *counts)
{
	if (!refs->n)
		return 0;
	if (!(out->refs = calloc(refs->n, sizeof(*out->refs))))
		return wd_error_set(WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < refs->n; i++) {
		out->refs[i].name = refs->strs[i];
		out->refs[i].count = counts[i];
		refs->strs[i] = NULL;
	}
	out->nrefs = out->caprefs = refs->n;
	return 0;
}

static void ex_free(struct ex *x)
{
	wd_strtab_free(&x->refs);
	free(x->counts);
	free(x->rg_seen);
}

static void ex_init(struct ex *x, wd_tagset *out, int lang, const char *src, size_t len)
{
	memset(x, 0, sizeof(*x));
	x->ts = out;
	x->s = &S[lang];
	x->r = (lang == WD_LANG_C || lang == WD_LANG_PYTHON) ? NULL : &R[lang];
	x->src = src;
	x->len = len;
}

int wd_tags_extract(wd_tagset *out, wd_parsers *p, int lang, const char *src, size_t len)
{
	struct ex x;
	wd_regions rg;
	TSTree *tree;
	int rc;

	if (lang <= WD_LANG_NONE || lang >= WD_LANG_COUNT)
		return 0;
	memset(&rg, 0, sizeof(rg));
	ex_init(&x, out, lang, src, len);
	if (len >= WD_REGIONS_MIN && lang != WD_LANG_JS)
		x.rg = &rg;
	if ((rc = parse(&tree, p, lang, src, len)) != 0)
		return rc;
	rc = walk(&x, ts_tree_root_node(tree), lang);
	ts_tree_delete(tree);
	if (!rc)
		rc = wd_tags__take_refs(out, &x.refs, x.counts);
	if (!rc && x.rg && rg.n)
		rc = wd_regions_text(&out->regions, &out->regions_len, &rg, src, len);
	ex_free(&x);
	wd_regions_free(&rg);
	return rc;
}

int wd_tags_extract_span(wd_tagset *out, wd_regions *rg, wd_parsers *p, int lang,
                         const char *src, size_t len, uint32_t a, uint32_t b, uint32_t row)
{
	struct ex x;
	TSTree *tree = NULL;
	TSRange range = { { row, 0 }, { 0, 0 }, a, b };
	TSParser *ps;
	int rc;

	if (lang <= WD_LANG_NONE || lang >= WD_LANG_COUNT || a > b || b > len || len > UINT32_MAX)
		return WD_ENOTFOUND;
	ps = p->p[lang];
	/* the end point is not used to lex; the row of b keeps it sane */
	range.end_point.row = row;
	for (uint32_t i = a; i < b; i++)
		range.end_point.row += src[i] == '\n';
	if (!ts_parser_set_language(ps, language(lang)))
		return wd_error_set(WD_EINFRA, "tree-sitter could not load the grammar");
	if (!ts_parser_set_included_ranges(ps, &range, 1))
		return WD_ENOTFOUND;
	tree = ts_parser_parse_string(ps, NULL, src, (uint32_t)len);
	ts_parser_set_included_ranges(ps, NULL, 0); /* the next parse reads whole files again */
	if (!tree)
		return wd_error_set(WD_EINFRA, "tree-sitter could not parse");
	if (ts_node_has_error(ts_tree_root_node(tree))) {
		ts_tree_delete(tree);
		return WD_ENOTFOUND;
	}
	ex_init(&x, out, lang, src, len);
	x.rg = rg;
	x.rg_first = a;
	rc = walk(&x, ts_tree_root_node(tree), lang);
	ts_tree_delete(tree);
	if (!rc)
		rc = wd_tags__take_refs(out, &x.refs, x.counts);
	ex_free(&x);
	return rc;
}

/* --- syntax issues --- */

int wd_syntax_issues(wd_syntax_issue *out, size_t max, size_t *n, wd_parsers *p, int lang,
                     const char *src, size_t len)
{
	TSTree *tree;
	TSTreeCursor c;
	int rc;

	*n = 0;
	if (lang <= WD_LANG_NONE || lang >= WD_LANG_COUNT)
		return 0;
	if ((rc = parse(&tree, p, lang, src, len)) != 0)
		return rc;
	if (!ts_node_has_error(ts_tree_root_node(tree))) {
		ts_tree_delete(tree);
		return 0;
	}
	c = ts_tree_cursor_new(ts_tree_root_node(tree));
	for (;;) {
		TSNode node = ts_tree_cursor_current_node(&c);
		int missing = ts_node_is_missing(node);
		int error = ts_node_symbol(node) == TS_ERROR_SYMBOL;

		if (missing || error) {
			if (*n < max) {
				wd_syntax_issue *is = &out[*n];
				TSPoint pt = ts_node_start_point(node);
				uint32_t a = ts_node_start_byte(node), b = ts_node_end_byte(node);
				size_t k = 0;

				is->line = pt.row + 1;
				is->col = pt.column + 1;
				is->missing = missing;
				if (missing) {
					snprintf(is->what, sizeof(is->what), "%s", ts_node_type(node));
				} else {
					for (uint32_t i = a; i < b && k + 1 < sizeof(is->what) && src[i] != '\n'; i++)
						is->what[k++] = (char)((unsigned char)src[i] < 0x20 ? ' ' : src[i]);
					is->what[k] = '\0';
				}
			}
			(*n)++;
		}
		/* an ERROR node is reported once, not once per token inside it */
		if (!error && ts_node_has_error(node) && ts_tree_cursor_goto_first_child(&c))
			continue;
		while (!ts_tree_cursor_goto_next_sibling(&c))
			if (!ts_tree_cursor_goto_parent(&c))
				goto done;
	}
done:
	ts_tree_cursor_delete(&c);
	ts_tree_delete(tree);
	return 0;
}

/*
 * --- cache form ---
 *
 * Binary, in native byte order (a cache serves the machine that wrote it),
 * and read in place without a single write: a warm map's tags are borrowed
 * from a read-only mapping of the work tree's pack, whose pages are then
 * never copied (a write to a private file mapping takes a copy-on-write
 * fault and a TLB flush per page: on bench/map's VM, ~8 ms for git/git's
 * 4 MiB pack, an eighth of a warm map).
 *
 *   "wdt3"  u32 ndefs  u32 nrefs  u32 regions_len  u32 strings_len
 *   ndefs x { u32 kind, u32 start, u32 end, u32 name, u32 sig }
 *   nrefs x { u32 count, u32 name }
 *   strings: every name and signature, each ending in a NUL
 *   "end\n"
 *   the regions' text form (regions_len bytes)
 *
 * name and sig are offsets into the strings, whose last byte is a NUL, so
 * any offset within them starts a terminated string. A load takes exactly
 * this and nothing else: sizes that add up to the length to the byte, every
 * offset within the strings, every kind known.
 */
#define TAGS_MAGIC "wdt3"
#define TAGS_HEAD 20u
#define TAGS_DEF 20u
#define TAGS_REF 8u
#define TAGS_END "end\n"

static uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void set_u32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Append s with its NUL to the strings at *at (in out), returning its offset. */
static uint32_t put_string(wd_buf *out, size_t base, size_t *at, const char *s)
{
	size_t n = strlen(s) + 1, off = *at - base;

	memcpy(out->ptr + *at, s, n);
	*at += n;
	return (uint32_t)off;
}

int wd_tagset_dump(wd_buf *out, const wd_tagset *ts)
{
	size_t strings = 0, rl = ts->regions ? ts->regions_len : 0, total, at, strbase;
	char *p;
	int rc;

	for (size_t i = 0; i < ts->ndefs; i++)
		strings += strlen(ts->defs[i].name) + strlen(ts->defs[i].sig) + 2;
	for (size_t i = 0; i < ts->nrefs; i++)
		strings += strlen(ts->refs[i].name) + 1;
	total = TAGS_HEAD + TAGS_DEF * ts->ndefs + TAGS_REF * ts->nrefs + strings + 4 + rl;
	if (strings > UINT32_MAX || rl > UINT32_MAX || ts->ndefs > UINT32_MAX ||
	    ts->nrefs > UINT32_MAX || total > UINT32_MAX)
		return wd_error_set(WD_EINPUT, "a file's tags are too large to cache");
	if ((rc = wd_buf_grow(out, total)) != 0)
		return rc;
	p = out->ptr + out->len;
	memcpy(p, TAGS_MAGIC, 4);
	set_u32(p + 4, (uint32_t)ts->ndefs);
	set_u32(p + 8, (uint32_t)ts->nrefs);
	set_u32(p + 12, (uint32_t)rl);
	set_u32(p + 16, (uint32_t)strings);
	strbase = out->len + TAGS_HEAD + TAGS_DEF * ts->ndefs + TAGS_REF * ts->nrefs;
	at = strbase;
	for (size_t i = 0; i < ts->ndefs; i++) {
		const wd_tag *t = &ts->defs[i];
		char *d = p + TAGS_HEAD + TAGS_DEF * i;

		set_u32(d, t->kind);
		set_u32(d + 4, t->start);
		set_u32(d + 8, t->end);
		set_u32(d + 12, put_string(out, strbase, &at, t->name));
		set_u32(d + 16, put_string(out, strbase, &at, t->sig));
	}
	for (size_t i = 0; i < ts->nrefs; i++) {
		char *d = p + TAGS_HEAD + TAGS_DEF * ts->ndefs + TAGS_REF * i;

		set_u32(d, ts->refs[i].count);
		set_u32(d + 4, put_string(out, strbase, &at, ts->refs[i].name));
	}
	memcpy(out->ptr + at, TAGS_END, 4);
	at += 4;
	if (rl)
		memcpy(out->ptr + at, ts->regions, rl);
	out->len += total;
	out->ptr[out->len] = '\0';
	return 0;
}

static int bad_cache(void)
{
	return wd_error_set(WD_EINPUT, "tag cache entry is malformed");
}

static int tagset_load(wd_tagset *out, const char *text, size_t len, int borrowed)
{
	const char *defs, *refs, *strings;
	uint64_t nd, nr, rl, sl;

	memset(out, 0, sizeof(*out));
	out->arena = (char *)text; /* a borrowed arena is never written nor freed */
	out->borrowed = borrowed;
	if (len < TAGS_HEAD + 4 || memcmp(text, TAGS_MAGIC, 4) != 0)
		goto bad;
	nd = get_u32(text + 4);
	nr = get_u32(text + 8);
	rl = get_u32(text + 12);
	sl = get_u32(text + 16);
	if (TAGS_HEAD + TAGS_DEF * nd + TAGS_REF * nr + sl + 4 + rl != len ||
	    (sl ? text[len - rl - 5] != '\0' : nd + nr > 0))
		goto bad;
	defs = text + TAGS_HEAD;
	refs = defs + TAGS_DEF * nd;
	strings = refs + TAGS_REF * nr;
	if (memcmp(strings + sl, TAGS_END, 4) != 0)
		goto bad;
	if (rl) {
		out->regions = (char *)strings + sl + 4;
		out->regions_len = (size_t)rl;
	}
	/* every field is set below: no zeroing */
	if ((nd && !(out->defs = malloc((size_t)nd * sizeof(*out->defs)))) ||
	    (nr && !(out->refs = malloc((size_t)nr * sizeof(*out->refs))))) {
		wd_tagset_free(out);
		return wd_error_set(WD_ENOMEM, "out of memory");
	}
	out->capdefs = (size_t)nd;
	out->caprefs = (size_t)nr;
	for (size_t i = 0; i < nd; i++, defs += TAGS_DEF) {
		uint32_t kind = get_u32(defs), name = get_u32(defs + 12), sig = get_u32(defs + 16);
		wd_tag *t = &out->defs[i];

		if (kind >= WD_TAG_KIND_COUNT || name >= sl || sig >= sl)
			goto bad;
		t->name = (char *)strings + name;
		t->sig = (char *)strings + sig;
		t->kind = (uint8_t)kind;
		t->start = get_u32(defs + 4);
		t->end = get_u32(defs + 8);
		out->ndefs++;
	}
	for (size_t i = 0; i < nr; i++, refs += TAGS_REF) {
		uint32_t name = get_u32(refs + 4);

		if (name >= sl)
			goto bad;
		out->refs[i].name = (char *)strings + name;
		out->refs[i].count = get_u32(refs);
		out->nrefs++;
	}
	return 0;
bad:
	wd_tagset_free(out);
	return bad_cache();
}

int wd_tagset_load(wd_tagset *out, char *text, size_t len)
{
	return tagset_load(out, text, len, 0);
}

int wd_tagset_load_borrowed(wd_tagset *out, const char *text, size_t len)
{
	return tagset_load(out, text, len, 1);
}
